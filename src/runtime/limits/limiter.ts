// One connection's limiter: runs wait in arrival order (FIFO) for a start slot, bounded by max_wait_ms.
import { DuctapeError } from '../../errors.js';
import type { NormalizedRateLimit } from '../../model/rate-limit.js';
import { GRANTED, LocalSlots } from './local.js';
import type { RedisLimiterStore } from './redis.js';

/** Handed to a run that got its slot; release() after the attempt frees its concurrency slot. */
export interface Grant {
  release(): void;
}

interface Waiter {
  deadline: number;
  /** How long a shared concurrency slot outlives a process that dies mid-attempt: this attempt's timeout and slack. */
  leaseMs: number;
  /** What set the deadline, for the message of a run that gives up. */
  bound: WaitBound;
  resolve: (g: Grant) => void;
  reject: (err: unknown) => void;
  timer?: NodeJS.Timeout;
  done: boolean;
  /** The store is being asked for this waiter's slot (the queue head, shared state): its deadline waits for the answer. */
  asking?: boolean;
  /** The deadline passed while the store was being asked: refuse unless the answer is a slot. */
  expired?: boolean;
}

/**
 * What ends a run's wait for a slot: the limit's `max_wait_ms`, or the run's own deadline (`timeout: { run }`) when
 * that comes first. The message of a run that gives up names the one to raise.
 */
export type WaitBound = { by: 'max_wait' } | { by: 'run'; runMs: number };

/** Where the limiter keeps its state: this process only, or a Redis shared by every process. */
export interface SharedState {
  store: RedisLimiterStore;
  key: string;
  /** Called when Redis fails; the limiter then counts in this process until Redis answers again. */
  onError: (err: unknown) => void;
}

const MAX_WAIT: WaitBound = { by: 'max_wait' };
// With Redis, a slot freed by another process is not announced: waiting for one means asking again this often.
const SHARED_POLL_MS = 10;
let memberSeq = 0;
const memberPrefix = `${process.pid}.${Math.random().toString(36).slice(2, 8)}.`;

export class KeyLimiter {
  readonly #local: LocalSlots;
  readonly #queue: Waiter[] = [];
  #head = 0;
  #pumping = false;
  #wake: (() => void) | undefined;
  #sleepTimer: NodeJS.Timeout | undefined;
  /** When (performance.now() ms) the last wait a full window or a pause announced ends, for retryAfterMs. */
  #waitEndsAt = 0;

  constructor(
    readonly limit: NormalizedRateLimit,
    /** Names the connection in messages ('payments/prd/stripe'). */
    readonly label: string,
    readonly shared: SharedState | undefined,
    /** Which limit definition this limiter enforces (a changed definition gets a new limiter). */
    readonly signature: string,
  ) {
    this.#local = new LocalSlots(limit);
  }

  /**
   * A slot for one attempt. Returns the grant itself when a local slot is free and nobody waits (no promise, no
   * timer: the common case costs a few comparisons); otherwise a promise settled in arrival order.
   * @param deadline performance.now() ms after which the run stops waiting (RATE_LIMITED).
   * @param leaseMs the most this attempt's slot is held in Redis by a process that dies mid-attempt. Per attempt, not
   *   per limiter: the runs of one connection have different timeouts (per action, per call), and a lease shorter than
   *   the attempt would free its slot while it is still in flight.
   * @param bound what set the deadline (named in the RATE_LIMITED message). @default max_wait_ms
   */
  acquire(deadline: number, leaseMs: number, bound: WaitBound = MAX_WAIT): Grant | Promise<Grant> {
    if (!this.shared && this.#head === this.#queue.length && this.#local.take() === GRANTED) return this.#localGrant();
    return new Promise<Grant>((resolve, reject) => {
      const w: Waiter = { deadline, leaseMs, bound, resolve, reject, done: false };
      const ms = deadline - performance.now();
      w.timer = setTimeout(() => this.#deadlinePassed(w), Math.max(0, ms));
      this.#queue.push(w);
      void this.#pump();
    });
  }

  /**
   * Nobody waits and this process holds nothing: dropping the limiter loses nothing (a new one decides the same).
   * A shared limiter's state is in Redis, and its grants in flight release there, whichever limiter made them.
   */
  isIdle(now?: number): boolean {
    return !this.#pumping && this.#head === this.#queue.length && this.#local.isIdle(now);
  }

  /** Holds every start back for `ms` (the upstream said 429 or Retry-After). */
  pause(ms: number): void {
    this.#local.pause(ms);
    if (this.shared) this.shared.store.pause(this.shared.key, ms).catch(this.shared.onError);
  }

  /** Ends every wait: the client is closing. */
  close(reason: string): void {
    for (let i = this.#head; i < this.#queue.length; i++) {
      const w = this.#queue[i];
      if (w.done) continue;
      w.done = true;
      clearTimeout(w.timer);
      w.reject(new DuctapeError('NETWORK_ERROR', reason, { retryable: false }));
    }
    this.#queue.length = this.#head = 0;
    this.#wakeUp();
  }

  #localGrant(): Grant {
    return new OneRelease(this, undefined);
  }

  #sharedGrant(member: string): Grant {
    return new OneRelease(this, member);
  }

  /** Internal: frees the slot of a grant; called once per grant (OneRelease sees to that). */
  releaseSlot(member: string | undefined): void {
    if (member === undefined) this.#local.release();
    else this.shared!.store.release(this.shared!.key, this.limit, member).catch(this.shared!.onError);
    if (this.#head < this.#queue.length) this.#wakeUp();
  }

  /** Takes a slot for the head of the queue: GRANTED with its grant, a wait in ms, or FULL. */
  async #take(w: Waiter): Promise<{ r: number; grant?: Grant }> {
    if (this.shared) {
      const member = memberPrefix + memberSeq++;
      try {
        const r = await this.shared.store.take(this.shared.key, this.limit, member, w.leaseMs);
        return r === GRANTED ? { r, grant: this.#sharedGrant(member) } : { r };
      } catch (err) {
        this.shared.onError(err);
      }
    }
    const r = this.#local.take();
    return r === GRANTED ? { r, grant: this.#localGrant() } : { r };
  }

  // One pump at a time serves the queue head first, so runs start in the order they asked.
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#head < this.#queue.length) {
        const w = this.#queue[this.#head];
        if (w.done) {
          this.#head++;
          continue;
        }
        // max_wait_ms bounds the wait for a slot, not the time to ask: a slow or still-connecting Redis must not
        // turn a free slot into RATE_LIMITED, so the head's deadline waits for this answer.
        w.asking = true;
        const { r, grant } = await this.#take(w);
        w.asking = false;
        if (grant) {
          if (w.done) {
            grant.release(); // it gave up while Redis answered; the next one gets the slot
            continue;
          }
          this.#head++;
          w.done = true;
          clearTimeout(w.timer);
          w.resolve(grant);
          // A long busy spell must not keep every served waiter in the array.
          if (this.#head > 1024 && this.#head * 2 > this.#queue.length) this.#queue.splice(0, this.#head), (this.#head = 0);
          continue;
        }
        if (r > 0) this.#waitEndsAt = performance.now() + r;
        if (w.expired) {
          this.#giveUp(w, r > 0 ? r : undefined);
          continue;
        }
        if (r > 0) {
          // The head would still be waiting at its deadline: tell it now, with the real wait.
          if (performance.now() + r > w.deadline) {
            this.#giveUp(w, r);
            continue;
          }
        }
        await this.#sleep(r > 0 ? r : this.shared ? SHARED_POLL_MS : undefined);
      }
      this.#queue.length = this.#head = 0;
    } finally {
      this.#pumping = false;
    }
  }

  #deadlinePassed(w: Waiter): void {
    if (w.asking) w.expired = true;
    else this.#giveUp(w, undefined);
  }

  #giveUp(w: Waiter, waitMs: number | undefined): void {
    if (w.done) return;
    w.done = true;
    clearTimeout(w.timer);
    // Without a wait of its own (a concurrency cap, or a run behind the queue head), the last announced wait is the
    // best guess, as long as it has not ended yet.
    const retryAfterMs = Math.max(1, Math.ceil(waitMs ?? this.#waitEndsAt - performance.now()));
    const { bound } = w;
    const [within, allowed, fix] =
      bound.by === 'run'
        ? [`this run's timeout.run (${bound.runMs} ms)`, `its timeout.run is ${bound.runMs} ms`, 'give the run a longer timeout.run']
        : [`max_wait_ms (${this.limit.maxWaitMs} ms)`, `max_wait_ms is ${this.limit.maxWaitMs} ms`, "raise max_wait_ms in the connection's rate_limit"];
    w.reject(
      new DuctapeError(
        'RATE_LIMITED',
        `The rate limit of ${this.label} has no slot ${waitMs === undefined ? `within ${within}` : `for ${retryAfterMs} ms, more than this run may wait (${allowed})`}. ` +
          `Retry after ${Math.ceil(retryAfterMs / 1000)} s, or ${fix}.`,
        { retryAfterMs, local: true, retryable: true },
      ),
    );
    this.#wakeUp();
  }

  #sleep(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      if (ms !== undefined) this.#sleepTimer = setTimeout(resolve, ms);
    });
  }

  #wakeUp(): void {
    clearTimeout(this.#sleepTimer);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

// A class rather than a closure per grant: the uncontended path allocates one small object and nothing else.
class OneRelease implements Grant {
  #limiter: KeyLimiter | undefined;
  constructor(
    limiter: KeyLimiter,
    readonly member: string | undefined,
  ) {
    this.#limiter = limiter;
  }

  release(): void {
    const l = this.#limiter;
    this.#limiter = undefined;
    l?.releaseSlot(this.member);
  }
}

// A minimal abort signal for one attempt, and the one timer that bounds every attempt of a runtime.
//
// undici accepts anything with addEventListener; an AbortController (a full EventTarget) costs a few microseconds
// per request on the hot path. A timer per attempt cost another allocation, a timer-list insert and a clearTimeout:
// instead each signal carries its deadline and the runtime's AttemptClock keeps ONE timer, armed for the earliest
// deadline of the attempts in flight. At a steady load with one timeout it fires about once per timeout period.
import { MAX_TIMER_MS } from '../model/definitions.js';

/** How late a deadline may be seen as reached: Node's timers round to whole milliseconds. */
const SLACK_MS = 1;

export class AttemptSignal {
  aborted = false;
  reason: unknown = undefined;
  closedBy: string | undefined;
  /** performance.now() after which the attempt is aborted; Infinity once cleared. */
  deadline: number;
  /** Index in the runtime's InFlight list while the attempt is in it; -1 otherwise. */
  slot = -1;
  // undici registers exactly one listener per request: a field, not an array, in the common case.
  #listener: (() => void) | undefined;
  #more: (() => void)[] | undefined;

  /** Aborts after `ms`, once started on an AttemptClock (or by abort() at any time). */
  constructor(ms: number) {
    this.deadline = performance.now() + ms;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.#listener === undefined) this.#listener = listener;
    else (this.#more ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.#listener === listener) {
      this.#listener = this.#more?.shift();
      return;
    }
    const i = this.#more ? this.#more.indexOf(listener) : -1;
    if (i >= 0) this.#more!.splice(i, 1);
  }

  /** `why` marks an abort that is not the attempt's own timeout (close()). */
  abort(why?: string): void {
    if (this.aborted) return;
    this.aborted = true;
    this.closedBy = why;
    this.reason = new Error(why ?? 'attempt timed out');
    this.clear();
    const first = this.#listener;
    const more = this.#more;
    this.#listener = undefined;
    this.#more = undefined;
    first?.();
    if (more) for (const l of more) l();
  }

  /** Stops the deadline (the attempt finished, or its body now belongs to the caller). */
  clear(): void {
    this.deadline = Infinity;
  }
}

/**
 * A runtime's attempts in flight (close() aborts them), in an array: a signal knows its slot, and removal moves the last
 * signal into it. Not a Set: a Set that sees an add and a delete per attempt is rehashed into a new table every few
 * dozen attempts, and V8 links each old table to the next (for live iterators). Once one of those tables was promoted
 * to the old generation, that chain kept every later table, with the attempts it held and their whole runs, alive
 * through every young-generation GC until the next full one: in about half the processes, depending on GC timing,
 * ~1.7 KB per run was promoted and scavenges cost several µs per run (bench/README.md).
 */
export class InFlight {
  readonly #list: AttemptSignal[] = [];

  get size(): number {
    return this.#list.length;
  }

  add(signal: AttemptSignal): void {
    signal.slot = this.#list.length;
    this.#list.push(signal);
  }

  delete(signal: AttemptSignal): void {
    const i = signal.slot;
    if (i < 0 || this.#list[i] !== signal) return;
    const last = this.#list.pop()!;
    if (last !== signal) {
      this.#list[i] = last;
      last.slot = i;
    }
    signal.slot = -1;
  }

  /** A copy, safe to iterate while aborting (an abort may end other attempts). */
  list(): AttemptSignal[] {
    return this.#list.slice();
  }
}

/**
 * The deadlines of a runtime's attempts in flight, with one timer. `inFlight` is the runtime's list (close() aborts
 * what is in it); an attempt is added by start() and removed by its sender when it ends.
 */
export class AttemptClock {
  #timer: NodeJS.Timeout | undefined;
  /** performance.now() the timer fires at. */
  #at = Infinity;
  #inFlight: InFlight | undefined;

  start(signal: AttemptSignal, inFlight: InFlight): void {
    this.#inFlight = inFlight;
    inFlight.add(signal);
    // Later deadlines than the armed one (the usual case: same timeout, later start) cost nothing more.
    if (signal.deadline < this.#at) this.#arm(signal.deadline);
  }

  #arm(at: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#at = at;
    // A Node timer holds at most 2^31-1 ms and fires after 1 ms past it (a stored timeout_ms of 3e9 re-armed it every
    // millisecond, with a TimeoutOverflowWarning each time); firing early only re-arms for what is left.
    this.#timer = setTimeout(() => this.#fire(), Math.min(MAX_TIMER_MS, Math.max(0, at - performance.now())));
    // Not what keeps the process alive: an attempt in flight holds its socket (as the per-attempt timer did not need to).
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#at = Infinity;
    const now = performance.now() + SLACK_MS;
    let next = Infinity;
    for (const s of this.#inFlight?.list() ?? []) {
      if (s.deadline <= now) s.abort();
      else if (s.deadline < next) next = s.deadline;
    }
    if (next !== Infinity) this.#arm(next);
  }
}

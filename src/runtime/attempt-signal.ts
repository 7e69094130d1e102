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
 * The deadlines of a runtime's attempts in flight, with one timer. `inFlight` is the runtime's set (close() aborts
 * what is in it); an attempt is added by start() and removed by its sender when it ends.
 */
export class AttemptClock {
  #timer: NodeJS.Timeout | undefined;
  /** performance.now() the timer fires at. */
  #at = Infinity;
  #inFlight: Set<AttemptSignal> | undefined;

  start(signal: AttemptSignal, inFlight: Set<AttemptSignal>): void {
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
    for (const s of this.#inFlight ?? []) {
      if (s.deadline <= now) s.abort();
      else if (s.deadline < next) next = s.deadline;
    }
    if (next !== Infinity) this.#arm(next);
  }
}

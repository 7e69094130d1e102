// In-process limiter state: per window the requests in flight and when recent ones ended, plus an upstream's pause.
import type { NormalizedRateLimit } from '../../model/rate-limit.js';

/** What a limiter backend answers to "may one more request start now?". */
export const GRANTED = 0;
/** Blocked by requests still in flight: the wait ends when one ends, not at a known time. */
export const FULL = -1;

/**
 * The end times of recent requests of one window, oldest first, in a ring.
 *
 * A request counts against a window from the moment it starts until `perMs` after its answer arrived. The provider
 * counts a request when it reaches it, which is somewhere between our start and our answer; counting from the answer
 * is the only rule under which no span of `perMs` at the provider ever holds more than `requests`, whatever the
 * network's delays (a cold connection can delay one request by 100 ms while the next goes straight through). The
 * price is that a slot comes back `perMs` plus the request's latency after it was taken.
 */
export class WindowLog {
  readonly #ends: Float64Array;
  #head = 0;
  #size = 0;

  constructor(
    readonly requests: number,
    readonly perMs: number,
  ) {
    this.#ends = new Float64Array(requests);
  }

  /** ms until one more request fits (0: now), or FULL when only requests in flight could free a slot. */
  waitMs(now: number, inFlight: number): number {
    while (this.#size > 0 && this.#ends[this.#head] <= now - this.perMs) {
      this.#head = (this.#head + 1) % this.requests;
      this.#size--;
    }
    const used = inFlight + this.#size;
    if (used < this.requests) return 0;
    if (inFlight >= this.requests) return FULL;
    // The slot frees when enough recorded ends leave the window: the (used - requests + 1)-th oldest one.
    const k = used - this.requests;
    return this.#ends[(this.#head + k) % this.requests] + this.perMs - now;
  }

  /** No request ended within the last `perMs`: the window remembers nothing that could make a request wait. */
  isEmpty(now: number): boolean {
    return this.#size === 0 || this.#ends[(this.#head + this.#size - 1) % this.requests] <= now - this.perMs;
  }

  /** Records that a request ended. Never overflows: at every start, starts in flight plus ends held ≤ requests. */
  end(now: number): void {
    if (this.#size === this.requests) {
      this.#head = (this.#head + 1) % this.requests;
      this.#size--;
    }
    this.#ends[(this.#head + this.#size) % this.requests] = now;
    this.#size++;
  }
}

/** The whole state of one connection's limit in this process. Times are performance.now() ms (monotonic). */
export class LocalSlots {
  readonly #logs: WindowLog[];
  readonly #concurrency: number;
  #inFlight = 0;
  #pausedUntil = 0;

  constructor(limit: NormalizedRateLimit) {
    this.#logs = limit.windows.map((w) => new WindowLog(w.requests, w.perMs));
    this.#concurrency = limit.concurrency ?? Infinity;
  }

  /** GRANTED (the request is now in flight), ms to wait for a window or the pause, or FULL. */
  take(now: number = performance.now()): number {
    let wait = this.#pausedUntil - now;
    let full = this.#inFlight >= this.#concurrency;
    for (const log of this.#logs) {
      const w = log.waitMs(now, this.#inFlight);
      if (w === FULL) full = true;
      else if (w > wait) wait = w;
    }
    if (wait > 0) return Math.ceil(wait);
    if (full) return FULL;
    this.#inFlight++;
    return GRANTED;
  }

  /** The request ended (answered or failed): it now counts in each window until perMs from now. */
  release(now: number = performance.now()): void {
    if (this.#inFlight === 0) return;
    this.#inFlight--;
    for (const log of this.#logs) log.end(now);
  }

  /** Nothing in flight, no pause, every window empty: a fresh LocalSlots would decide exactly the same. */
  isIdle(now: number = performance.now()): boolean {
    return this.#inFlight === 0 && this.#pausedUntil <= now && this.#logs.every((log) => log.isEmpty(now));
  }

  /** Holds every start back for `ms` (a 429 or Retry-After); a shorter pause never cuts a longer one. */
  pause(ms: number, now: number = performance.now()): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, now + ms);
  }
}

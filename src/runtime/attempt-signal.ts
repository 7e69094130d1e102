// A minimal abort signal for one attempt: undici accepts anything with addEventListener, and an AbortController
// (a full EventTarget) costs a few microseconds per request on the hot path, while this costs a timer and an array.

export class AttemptSignal {
  aborted = false;
  reason: unknown = undefined;
  closedBy: string | undefined;
  #listeners: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;

  /** Aborts by itself after `ms`. */
  constructor(ms: number) {
    this.#timer = setTimeout(() => this.abort(), ms);
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.#listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.#listeners.indexOf(listener);
    if (i >= 0) this.#listeners.splice(i, 1);
  }

  /** `why` marks an abort that is not the attempt's own timeout (close()). */
  abort(why?: string): void {
    if (this.aborted) return;
    this.aborted = true;
    this.closedBy = why;
    this.reason = new Error(why ?? 'attempt timed out');
    this.clear();
    for (const l of this.#listeners.splice(0)) l();
  }

  /** Stops the timer (the attempt finished, or its body now belongs to the caller). */
  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

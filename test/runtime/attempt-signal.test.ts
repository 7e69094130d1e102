// The attempt clock: one timer for every attempt in flight, armed for the earliest deadline.
import { afterEach, describe, expect, it } from 'vitest';
import { AttemptClock, AttemptSignal } from '../../src/runtime/attempt-signal.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AttemptClock', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  afterEach(() => {
    process.off('warning', onWarning);
    warnings.length = 0;
  });

  it('holds a deadline past what a Node timer can (a stored timeout_ms of 3e9) without firing every millisecond', async () => {
    // setTimeout clamps such a delay to 1 ms: the clock fired, found the deadline still ahead and re-armed, each time
    // with a TimeoutOverflowWarning, for as long as the attempt lasted.
    process.on('warning', onWarning);
    const inFlight = new Set<AttemptSignal>();
    const signal = new AttemptSignal(3_000_000_000);
    new AttemptClock().start(signal, inFlight);
    await sleep(50);
    expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([]);
    expect(signal.aborted).toBe(false);
    signal.clear();
    inFlight.delete(signal);
  });
});

// The attempt clock: one timer for every attempt in flight, armed for the earliest deadline.
import { afterEach, describe, expect, it } from 'vitest';
import { AttemptClock, AttemptSignal, InFlight } from '../../src/runtime/attempt-signal.js';

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
    const inFlight = new InFlight();
    const signal = new AttemptSignal(3_000_000_000);
    new AttemptClock().start(signal, inFlight);
    await sleep(50);
    expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([]);
    expect(signal.aborted).toBe(false);
    signal.clear();
    inFlight.delete(signal);
  });

  it('aborts the attempts past their deadline and keeps the others', async () => {
    const inFlight = new InFlight();
    const clock = new AttemptClock();
    const soon = [new AttemptSignal(5), new AttemptSignal(5)];
    const later = new AttemptSignal(60_000);
    for (const s of [soon[0], later, soon[1]]) clock.start(s, inFlight);
    await sleep(40);
    expect(soon.map((s) => s.aborted)).toEqual([true, true]);
    expect(later.aborted).toBe(false);
    later.clear();
    for (const s of [...soon, later]) inFlight.delete(s);
    expect(inFlight.size).toBe(0);
  });
});

describe('InFlight', () => {
  it('adds and removes in any order, each signal once, and lists what is left', () => {
    const inFlight = new InFlight();
    const signals = Array.from({ length: 6 }, () => new AttemptSignal(1000));
    for (const s of signals) inFlight.add(s);
    for (const i of [0, 5, 2]) inFlight.delete(signals[i]);
    inFlight.delete(signals[2]); // twice: no effect
    inFlight.delete(new AttemptSignal(1000)); // never added: no effect
    expect(new Set(inFlight.list())).toEqual(new Set([signals[1], signals[3], signals[4]]));
    expect(inFlight.size).toBe(3);
    for (const s of inFlight.list()) inFlight.delete(s);
    expect(inFlight.list()).toEqual([]);
    expect(signals.every((s) => s.slot === -1)).toBe(true);
  });
});

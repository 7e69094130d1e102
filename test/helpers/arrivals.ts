// Helpers for rate limit tests: an upstream that records when each request arrived and how many were in flight.
import type { ServerResponse } from 'node:http';
import { startUpstream, type Recorded, type Upstream } from './upstream.js';

export interface TimedUpstream extends Upstream {
  /** performance.timeOrigin-based epoch ms of each arrival, in order (comparable across processes). */
  arrivals: number[];
  /** Highest number of requests in flight at once. */
  maxInFlight: () => number;
}

/** Answers 200 `{ n }` after `delayMs`, unless `respond` handles the request itself (returns true). */
export async function startTimedUpstream(
  delayMs = 0,
  respond?: (req: Recorded, res: ServerResponse, n: number) => boolean,
): Promise<TimedUpstream> {
  const arrivals: number[] = [];
  let inFlight = 0;
  let max = 0;
  const up = await startUpstream(async (req, res) => {
    const n = arrivals.push(performance.timeOrigin + performance.now());
    max = Math.max(max, ++inFlight);
    try {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      if (respond?.(req, res, n)) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ n }));
    } finally {
      inFlight--;
    }
  });
  return Object.assign(up, { arrivals, maxInFlight: () => max });
}

/** The most arrivals within any half-open span [t, t + windowMs). */
export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

// Run-log records: what the log stage captures per run, the compact form stored in segments, and the public row.
import { redactUrl, secretsGeneration } from './redact.js';

/** One run as the log stage captures it: primitives only (no reference to the run's input, result or error). */
export interface RunLogEntry {
  /** Epoch ms when the run started. */
  startedAt: number;
  durationMs: number;
  actor: string;
  product: string;
  env: string;
  app: string;
  event: string;
  status: number | undefined;
  ok: boolean;
  cached: boolean;
  attempts: number;
  errorCode: string | undefined;
  errorMessage: string | undefined;
  method: string | undefined;
  /** Origin + path; credentials in the query are redacted when the entry is stored. */
  url: string | undefined;
  /** secretsGeneration() when `url` was redacted; stored as is unless secrets were registered since. */
  urlRedactedAt?: number;
  contentType: string | undefined;
  /** The end user whose connection the run used (per-user connections). */
  owner?: string;
  /** Time spent waiting for rate limit slots (ms); undefined when the run never waited. */
  waitMs?: number;
}

/** A run as logs.query returns it (API.md §5). */
export interface RunLogRow {
  id: string;
  time: string;
  actor: string | null;
  product: string;
  env: string;
  app: string;
  event: string;
  status: number | null;
  ok: boolean;
  attempts: number;
  cached: boolean;
  durationMs: number;
  /** Part of durationMs spent waiting for the connection's rate limit (0 when it never waited). */
  waitMs: number;
  errorCode: string | null;
  /** The end user whose connection the run used (per-user connections, docs/connections.md); null otherwise. */
  owner: string | null;
  request: { method: string; url: string } | null;
  response: { status: number | null; contentType: string | null } | { error: string } | null;
}

/**
 * The stored form: a positional array (JSON of arrays is about half the size and time of JSON of objects). Field order
 * is part of the storage format: append new fields at the end, never reorder.
 */
export type LogTuple = [
  startedAt: number,
  durationMs: number,
  actor: string,
  product: string,
  env: string,
  app: string,
  event: string,
  status: number | null,
  flags: number,
  attempts: number,
  errorCode: string | null,
  method: string | null,
  url: string | null,
  /** The error message for a failed run, else the response content type. */
  detail: string | null,
  /** Per-user connections: the owner (absent in segments written before owners existed). */
  owner?: string | null,
  /** Rate limit wait in ms; absent in segments written before it existed, and when the run never waited. */
  waitMs?: number,
];

const OK = 1;
const CACHED = 2;

export function toTuple(e: RunLogEntry): LogTuple {
  const t: LogTuple = [
    e.startedAt,
    Math.round(e.durationMs * 100) / 100,
    e.actor,
    e.product,
    e.env,
    e.app,
    e.event,
    e.status ?? null,
    (e.ok ? OK : 0) | (e.cached ? CACHED : 0),
    e.attempts,
    e.errorCode ?? null,
    e.method ?? null,
    e.url === undefined ? null : e.urlRedactedAt === secretsGeneration() ? e.url : redactUrl(e.url),
    (e.ok ? e.contentType : e.errorMessage) ?? null,
  ];
  // Only per-user runs carry the owner, and only runs that waited for a rate limit their wait: other rows stay as small.
  if (e.owner !== undefined || e.waitMs) t.push(e.owner ?? null);
  if (e.waitMs) t.push(Math.round(e.waitMs * 100) / 100);
  return t;
}

export function fromTuple(t: LogTuple, id: string): RunLogRow {
  const ok = (t[8] & OK) !== 0;
  return {
    id,
    time: new Date(t[0]).toISOString(),
    actor: t[2],
    product: t[3],
    env: t[4],
    app: t[5],
    event: t[6],
    status: t[7],
    ok,
    attempts: t[9],
    cached: (t[8] & CACHED) !== 0,
    durationMs: t[1],
    waitMs: t[15] ?? 0,
    errorCode: t[10],
    owner: t[14] ?? null,
    request: t[11] === null ? null : { method: t[11], url: t[12] ?? '' },
    response: ok ? { status: t[7], contentType: t[13] } : { error: t[13] ?? '' },
  };
}

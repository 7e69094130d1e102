// Times given by users (logs.query's since, a secret's expires_at): one reading, whatever the machine's time zone.

/** An ISO date and time without a zone: `2026-12-08T10:00`, `2026-12-08 10:00:00.5`. */
const ZONELESS = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

/**
 * Epoch ms of a time given as ISO 8601 text, epoch ms or a Date; NaN when it is none. ISO text with a time of day but
 * no zone is read as UTC: JavaScript reads it in the process's local zone (while a date alone is UTC), so the same
 * filter would select different runs on a laptop and on a server, and the dashboard already sends such times as UTC.
 * @example timeMs('2026-12-08T10:00:00') === Date.UTC(2026, 11, 8, 10)
 */
export function timeMs(v: string | number | Date): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v !== 'string') return NaN;
  const m = ZONELESS.exec(v.trim());
  return Date.parse(m ? `${m[1]}T${m[2]}Z` : v);
}

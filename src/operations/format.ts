// Plain-text rendering shared by the CLI's human output.

/** A plain aligned table of the rows' scalar fields, and of their lists of scalars (apps list's envs) joined with commas. */
export function table(rows: Record<string, unknown>[]): string {
  const isList = (v: unknown): v is unknown[] => Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object');
  const shown = (v: unknown) => v !== undefined && (typeof v !== 'object' || isList(v));
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => rows.some((r) => shown(r[c])));
  const cell = (v: unknown) => (v === undefined || v === null || (typeof v === 'object' && !isList(v)) ? '' : isList(v) ? v.join(',') : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

/** The human line of a delete: deletes are idempotent, so "nothing there" is a success worth saying as such. */
export function removed(done: boolean, what: string, verb = 'Deleted'): string {
  return done ? `${verb} ${what}` : `Nothing to do: there is no ${what}`;
}

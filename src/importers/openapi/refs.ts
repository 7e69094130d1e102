// $ref handling: external files bundled in (never fully dereferenced), internal pointers followed with cycle guards.
import { existsSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors.js';
import { checkNesting, findPosition, specError, type Source } from '../load.js';

type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `#/components/schemas/a~1b` → ['components', 'schemas', 'a/b'] (RFC 6901, URI-fragment encoded). */
export function decodePointer(ref: string): string[] | undefined {
  if (!ref.startsWith('#')) return undefined;
  const body = ref.slice(1);
  if (body === '') return [];
  if (!body.startsWith('/')) return undefined; // `#anchor` (3.1 $anchor) is not a pointer
  return body
    .slice(1)
    .split('/')
    .map((s) => {
      let d = s;
      try {
        d = decodeURIComponent(s);
      } catch {
        // a literal % in a name: keep as written
      }
      return d.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

export function getAt(doc: unknown, segments: string[]): unknown {
  let node = doc;
  for (const s of segments) {
    if (Array.isArray(node)) node = node[Number(s)];
    else if (isObject(node) && Object.hasOwn(node, s)) node = node[s];
    else return undefined;
  }
  return node;
}

export interface Resolver {
  /** Follows `$ref` chains (parameters, request bodies, responses, headers, path items) to the object. */
  deref<T = Obj>(value: unknown): T | undefined;
  /** The target of one internal `$ref`, or a CONFIG_ERROR naming it and where it is written. */
  target(ref: string): unknown;
  /**
   * A ref by `$id` or `$anchor` (OAS 3.1 / JSON Schema 2020-12) as a local pointer (`#/components/…`), or
   * undefined when no schema in the document carries that id. `base` is the enclosing schema's base URI.
   */
  localize(ref: string, base?: string): string | undefined;
}

/** Base URI of the document itself, so relative `$id`s resolve to something comparable. */
export const DOCUMENT_BASE = 'https://document.invalid/';

export function createResolver(doc: Obj, source: Source): Resolver {
  let ids: Map<string, string[]> | undefined;
  const localize = (ref: string, base = DOCUMENT_BASE): string | undefined => {
    ids ??= indexIds(doc);
    let url: URL;
    try {
      url = new URL(ref, base);
    } catch {
      return undefined;
    }
    const fragment = decodeURIComponent(url.hash.slice(1));
    url.hash = '';
    const anchored = fragment && !fragment.startsWith('/') ? ids.get(`${url.href}#${fragment}`) : undefined;
    const resource = anchored ?? ids.get(url.href);
    if (!resource) return undefined;
    const segments = anchored || !fragment ? resource : [...resource, ...(decodePointer(`#${fragment}`) ?? [])];
    return `#/${segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
  };
  const target = (raw: string): unknown => {
    const ref = raw.startsWith('#/') || raw === '#' ? raw : (localize(raw) ?? raw);
    const segments = decodePointer(ref);
    const found = segments ? getAt(doc, segments) : undefined;
    if (found === undefined) {
      const why = segments ? 'points to nothing in the document' : 'is not a local JSON pointer';
      throw specError(source, `$ref "${ref}" ${why}.`, findPosition(source, '$ref', ref));
    }
    return found;
  };
  const deref = <T>(value: unknown): T | undefined => {
    let node = value;
    // A chain longer than this is a cycle of refs to refs: no object is ever reached.
    for (let hops = 0; isObject(node) && typeof node.$ref === 'string'; hops++) {
      if (hops > 32) throw specError(source, `$ref "${String(node.$ref)}" is a cycle of references.`);
      node = target(node.$ref);
    }
    return node as T | undefined;
  };
  return { deref, target, localize };
}

/** `$id` (resolved against enclosing ids) and `$anchor` → pointer segments, for 3.1 refs by id. */
function indexIds(doc: Obj): Map<string, string[]> {
  const index = new Map<string, string[]>();
  const stack: { node: unknown; path: string[]; base: string }[] = [{ node: doc, path: [], base: DOCUMENT_BASE }];
  while (stack.length) {
    const { node, path, base } = stack.pop()!;
    if (Array.isArray(node)) {
      node.forEach((v, i) => v && typeof v === 'object' && stack.push({ node: v, path: [...path, String(i)], base }));
      continue;
    }
    if (!isObject(node)) continue;
    let here = base;
    if (typeof node.$id === 'string') {
      try {
        const url = new URL(node.$id, base);
        url.hash = '';
        here = url.href;
        index.set(here, path);
      } catch {
        // not a URI: not addressable
      }
    }
    if (typeof node.$anchor === 'string') index.set(`${here}#${node.$anchor}`, path);
    for (const [k, v] of Object.entries(node)) if (v && typeof v === 'object') stack.push({ node: v, path: [...path, k], base: here });
  }
  return index;
}

/** Every `$ref` that is not a local pointer (`./pet.yaml#/Pet`, `https://…`), with no recursion limits. */
function externalRefs(doc: unknown): string[] {
  const found = new Set<string>();
  const stack: unknown[] = [doc];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const v of node) if (v && typeof v === 'object') stack.push(v);
    } else if (isObject(node)) {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string' && !v.startsWith('#')) found.add(v);
        else if (v && typeof v === 'object') stack.push(v);
      }
    }
  }
  return [...found];
}

/**
 * Pulls `$ref`ed files next to the spec into the document with @readme/openapi-parser's `bundle`, which leaves
 * internal refs (and therefore cycles) in place. Remote URLs are refused: an import never reaches the network.
 */
export async function bundleExternalRefs(doc: Obj, source: Source, resolver: Resolver): Promise<Obj> {
  // Refs by $id/$anchor look external but point inside the document.
  const refs = externalRefs(doc).filter((ref) => resolver.localize(ref) === undefined);
  if (refs.length === 0) return doc;
  const baseDir = source.path ? dirname(source.path) : process.cwd();
  // #11: whatever a $ref names is read and stored in the app, so file refs stay inside the spec's folder (or the
  // refs_root the caller widens it to). A spec given as text or an object has no folder: only refs_root allows them.
  const root = source.refsRoot !== undefined ? resolvePath(source.refsRoot) : source.path ? dirname(source.path) : undefined;
  const confine = (path: string, ref: string): void => {
    const real = existsSync(path) ? realpathSync(path) : path;
    const within = root !== undefined && isInside(existsSync(root) ? realpathSync(root) : root, real);
    if (!within) {
      throw specError(
        source,
        root === undefined
          ? `$ref "${ref}" points to a file, but this spec was not read from a file; pass refs_root to allow file refs under a folder.`
          : `$ref "${ref}" points outside the spec's folder (${root}); only files under it are read. Move the file there, or pass refs_root to widen it.`,
        findPosition(source, '$ref', ref),
      );
    }
  };
  for (const ref of refs) {
    const file = ref.split('#')[0];
    if (/^[a-z][a-z0-9+.-]*:/i.test(file) && !/^file:/i.test(file)) {
      throw specError(
        source,
        `$ref "${ref}" points to a remote URL; imports never fetch from the network. Save the file next to the spec and refer to it by a relative path.`,
        findPosition(source, '$ref', ref),
      );
    }
    const path = resolvePath(baseDir, decodeURI(file.replace(/^file:\/\//i, '')));
    confine(path, ref);
    if (!existsSync(path)) {
      throw specError(source, `$ref "${ref}" points to a missing file (${path}).`, findPosition(source, '$ref', ref));
    }
  }
  try {
    // Loaded on demand: single-file specs (most of them) never pay for the parser and its validators.
    const { bundle } = await import('@readme/openapi-parser');
    // Bundling from the path lets nested files resolve relative to their own folder.
    const input = source.path ?? structuredClone(doc);
    // Nested files are checked as the bundler reads them: a ref inside an allowed file may not step out either.
    const read = async (file: { url: string }) => {
      const path = /^file:/i.test(file.url) ? fileURLToPath(file.url) : file.url;
      confine(path, file.url);
      return readFile(path);
    };
    const bundled = (await bundle(input as never, { resolve: { file: { read } } } as never)) as unknown as Obj;
    // The files read here were not checked with the spec (importers/load.ts): one may nest too deep or, through a YAML
    // alias, contain itself.
    checkNesting(bundled, source, 'with its external $refs bundled, ');
    return bundled;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // The bundler recurses once per level of what it reads: a file nested thousands of levels deep overflows its stack.
    if (err instanceof RangeError) throw specError(source, 'a file its $refs bring in is nested too deeply to be read (thousands of levels); real definitions nest a few dozen.', undefined, err);
    const message = (err as Error).message?.split('\n')[0] ?? String(err);
    throw specError(source, `cannot resolve an external $ref: ${message}`, undefined, err);
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

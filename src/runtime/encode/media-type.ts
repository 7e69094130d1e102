// Media type classification shared by the body encoder and the response decoder.

export type MediaKind = 'json' | 'form' | 'multipart' | 'xml' | 'text' | 'wildcard' | 'binary';

/** `Application/JSON; charset=utf-8` → `application/json` (RFC 9110 §8.3.1: type and subtype are case-insensitive). */
export function essence(mediaType: string): string {
  const semi = mediaType.indexOf(';');
  return (semi === -1 ? mediaType : mediaType.slice(0, semi)).trim().toLowerCase();
}

/** What kind of body a media type carries. Structured suffixes (RFC 6839) count: `+json`, `+xml`. */
export function mediaKind(mediaType: string): MediaKind {
  const type = essence(mediaType);
  if (type === 'application/json' || type === 'text/json' || type.endsWith('+json')) return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (type === 'multipart/form-data') return 'multipart';
  if (type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml')) return 'xml';
  if (type.includes('*')) return 'wildcard';
  if (type.startsWith('text/')) return 'text';
  return 'binary';
}

/** Whether a value of this media type is JSON text (content-encoded parameters, Encoding Object contentType). */
export function isJsonMediaType(mediaType: string): boolean {
  return mediaKind(mediaType) === 'json';
}

/**
 * How closely a declared media range admits the concrete type `type` (both essences, lowercase): 3 for `type/*+suffix`
 * (`application/*+json`, as ASP.NET specs declare), 2 for `type/*`, 1 for `*\/*`, 0 when it does not (or is no range).
 * RFC 9110 §12.5.1 defines the ranges; OAS 3 uses them as request body keys.
 */
export function rangeScore(range: string, type: string): number {
  if (!range.includes('*') || type.includes('*')) return 0;
  if (range === '*/*') return 1;
  const [main, sub = ''] = range.split('/');
  const [typeMain, typeSub = ''] = type.split('/');
  if (main !== typeMain || !typeSub) return 0;
  if (sub === '*') return 2;
  const suffix = /^\*(\+[^*/]+)$/.exec(sub)?.[1];
  return suffix !== undefined && typeSub.endsWith(suffix) && typeSub.length > suffix.length ? 3 : 0;
}

/**
 * The one concrete media type in an Encoding Object `contentType`, which may be a list (`image/png, image/jpeg`) or a
 * range (`image/*`); undefined when it names no single type that could be sent as a Content-Type.
 */
export function concreteType(contentType: string | undefined): string | undefined {
  if (!contentType || contentType.includes(',') || contentType.includes('*')) return undefined;
  return contentType.trim();
}

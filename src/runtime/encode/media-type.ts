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
 * The one concrete media type in an Encoding Object `contentType`, which may be a list (`image/png, image/jpeg`) or a
 * range (`image/*`); undefined when it names no single type that could be sent as a Content-Type.
 */
export function concreteType(contentType: string | undefined): string | undefined {
  if (!contentType || contentType.includes(',') || contentType.includes('*')) return undefined;
  return contentType.trim();
}

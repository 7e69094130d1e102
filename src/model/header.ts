// What an HTTP header value may hold. Node and undici refuse anything else only at send time, with an error that
// names neither the header nor the character (a run failed as NETWORK_ERROR "check the base URL"); every place a
// header value is made checks it here instead, and says which header and which character.

/** RFC 9110 §5.1: a field name is a token (§5.6.2). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** RFC 9110 §5.5 field-value: HTAB, SP, VCHAR and obs-text; a match is a character a header cannot carry. */
export const NOT_FIELD_VALUE = /[^\t\x20-\x7E\x80-\xFF]/;

/**
 * Why `text` cannot be a header value, naming the character but never the value (it may be a credential), or
 * undefined when it can. `fix` ends the message for characters other than CR, LF and NUL.
 *
 * @example headerValueProblem('caf…') // 'contains U+2026, which an HTTP header cannot carry (RFC 9110 §5.5); encode …'
 */
export function headerValueProblem(text: string, fix = 'encode the value first (e.g. RFC 8187 or base64)'): string | undefined {
  const bad = NOT_FIELD_VALUE.exec(text);
  if (!bad) return undefined;
  const ch = bad[0];
  if (ch === '\r' || ch === '\n') return 'contains a line break (CR or LF), which could inject headers; it is refused';
  if (ch === '\0') return 'contains a NUL character, which a header cannot carry';
  const code = ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `contains U+${code}, which an HTTP header cannot carry (RFC 9110 §5.5); ${fix}`;
}

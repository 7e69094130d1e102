// Path parameters: simple, label and matrix styles, each value percent-encoded to stay inside its own segment.
import type { ParamDef } from '../../model/action.js';
import { ConfigError } from '../../errors.js';
import { EncodeFailure, pointer, toInvalidInput } from './failure.js';
import { encodeStrict } from './percent.js';
import { delimitedSimple, layOut, layoutOf, type Layout } from './style.js';
import { contentText } from './text.js';
import type { ValueEncoder } from './index.js';

/**
 * Compiles the encoder for one path parameter. It returns the text that replaces `{name}`, with the `.` or
 * `;name=` prefix of label and matrix styles.
 *
 * Only RFC 3986 unreserved characters stay raw (OAS defines `allowReserved` for query parameters only), so `/`, `?`,
 * `#`, `%` and `\` in a value are encoded and `../admin` or `a/b?x=1#y` cannot leave their segment. Output that would
 * be a whole dot-segment (`.` or `..`) or an empty segment is refused: WHATWG URL parsing removes `%2E%2E` just like
 * `..`, so no encoding of those values is safe, and an empty segment (`/users//orders`) is merged by many servers.
 *
 * @example compilePathParam({ name: 'id', in: 'path', style: 'matrix' })(5) // ';id=5'
 */
export function compilePathParam(p: ParamDef): ValueEncoder<string> {
  const where = pointer(p.name);
  const layout = pathLayout(p);
  const contentType = p.contentType;
  return (value) => {
    try {
      if (value === undefined) throw new EncodeFailure('is required: every path parameter needs a value');
      const text = contentType === undefined ? layOut(value, layout, encodeStrict) : encodeStrict(contentText(value, contentType));
      if (text === '' || text === '.' || text === '..') throw new EncodeFailure(unsafeSegment(text));
      return text;
    } catch (err) {
      throw toInvalidInput(err, 'params', where);
    }
  };
}

function pathLayout(p: ParamDef): Layout {
  const style = p.style ?? 'simple';
  const layout =
    style === 'simple' || style === 'label' || style === 'matrix' ? layoutOf(style, p.explode ?? false, encodeStrict(p.name)) : delimitedSimple(style, encodeStrict);
  if (!layout) {
    throw new ConfigError(`Path parameter "${p.name}" has style "${style}"; path parameters use simple, label or matrix (OpenAPI 3.1 §4.8.12.4), or a Swagger 2.0 ssv, tsv or pipes collectionFormat.`, {
      parameter: p.name,
      style,
    });
  }
  return layout;
}

function unsafeSegment(text: string): string {
  return text === ''
    ? 'is empty; an empty path segment would change which path is requested'
    : `would become the dot-segment "${text}", which URL parsers remove (changing the path), so it cannot be sent as a path value`;
}

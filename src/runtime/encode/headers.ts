// Header parameters (simple style, never percent-encoded) and cookie parameters (form style, percent-encoded).
import type { ParamDef } from '../../model/action.js';
import { ConfigError } from '../../errors.js';
import { headerValueProblem, NOT_FIELD_VALUE } from '../../model/header.js';
import { EncodeFailure, pointer, toInvalidInput } from './failure.js';
import { encodeStrict } from './percent.js';
import { asIs, delimitedSimple, layOut, layoutOf, type Layout } from './style.js';
import { contentText } from './text.js';
import type { ValueEncoder } from './index.js';


/**
 * Compiles the encoder for one header parameter: `simple` style, arrays as `a,b`, objects as `R,100,G,200`
 * (or `R=100,G=200` exploded). Values are not percent-encoded (OAS 3.1.2 Appendix D: quote or escape header data
 * before passing it). Undefined, null and empty values give the empty string; callers leave absent headers, and empty
 * lists and maps (isEmptyCollection), out.
 * Throws INVALID_INPUT for CR, LF, NUL and other characters a header cannot carry.
 *
 * @example compileHeaderParam({ name: 'X-Tags', in: 'header' })(['a', 'b']) // 'a,b'
 */
export function compileHeaderParam(p: ParamDef): ValueEncoder<string> {
  const where = pointer(p.name);
  const style = p.style ?? 'simple';
  // Swagger 2.0 headers may join items with ssv, tsv or pipes (`X-Tags: a|b`), kept as Ductape's delimited styles.
  const layout = style === 'simple' ? (layoutOf('simple', p.explode ?? false, p.name) as Layout) : delimitedSimple(style, asIs);
  if (!layout) throw styleError(p, style, 'simple');
  const contentType = p.contentType;
  return (value) => {
    try {
      const text = contentType === undefined ? layOut(value, layout, asIs) : value === undefined ? '' : contentText(value, contentType);
      // Refused here rather than by undici at send time: the message names the parameter, and CR/LF never get near a request.
      const problem = headerValueProblem(text);
      if (problem) throw new EncodeFailure(problem);
      return text;
    } catch (err) {
      throw toInvalidInput(err, 'headers', where);
    }
  };
}

/**
 * Compiles the encoder for one cookie parameter: `name=value` pairs in form style, for joining with `; `.
 * An exploded array or object becomes several pairs joined with `; ` (not `&`, which OAS 3.1.2 Appendix D notes is
 * always wrong for cookies). Values are percent-encoded (RFC 6570), so `;`, `,`, spaces and quotes never break the
 * Cookie header. A `content`-encoded cookie is sent as given, but may not contain `;` or control characters.
 *
 * @example compileCookieParam({ name: 'theme', in: 'cookie' })('dark mode') // 'theme=dark%20mode'
 */
export function compileCookieParam(p: ParamDef): ValueEncoder<string> {
  const where = pointer(p.name);
  const style = p.style ?? 'form';
  if (style !== 'form') throw styleError(p, style, 'form');
  const name = encodeStrict(p.name);
  const layout: Layout = p.explode ?? true
    ? { prefix: `${name}=`, sep: `; ${name}=`, objPrefix: '', objSep: '; ', kv: '=', empty: `${name}=` }
    : { prefix: `${name}=`, sep: ',', objPrefix: `${name}=`, objSep: ',', kv: ',', empty: `${name}=` };
  const contentType = p.contentType;
  return (value) => {
    try {
      if (contentType === undefined) return layOut(value, layout, encodeStrict);
      const text = value === undefined ? '' : contentText(value, contentType);
      if (text.includes(';') || NOT_FIELD_VALUE.test(text)) {
        throw new EncodeFailure('contains ";" or a control character, which would break the Cookie header');
      }
      return `${name}=${text}`;
    } catch (err) {
      throw toInvalidInput(err, 'cookies', where);
    }
  };
}

function styleError(p: ParamDef, style: string, allowed: string): ConfigError {
  return new ConfigError(`Parameter "${p.name}" in ${p.in} has style "${style}"; only "${allowed}" is defined there (OpenAPI 3.1 §4.8.12.4).`, {
    parameter: p.name,
    style,
  });
}

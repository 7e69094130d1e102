// Every style × explode cell of the OpenAPI 3.1 Style Examples table (§4.8.12.4), byte for byte.
import { describe, expect, it } from 'vitest';
import type { ParamDef, ParamStyle } from '../../../src/model/action.js';
import { compileCookieParam, compileHeaderParam, compilePathParam, compileQueryParam } from '../../../src/runtime/encode/index.js';

const VALUES = {
  empty: '',
  string: 'blue',
  array: ['blue', 'black', 'brown'],
  object: { R: 100, G: 200, B: 150 },
} as const;
type Column = keyof typeof VALUES;

// [style, explode, empty, string, array, object] as the table writes them; null marks n/a. The query rows drop the
// table's leading '?', which belongs to the URL, not to the parameter (the caller joins pieces with '&').
const TABLE: [ParamStyle, boolean, string | null, string | null, string | null, string | null][] = [
  ['matrix', false, ';color', ';color=blue', ';color=blue,black,brown', ';color=R,100,G,200,B,150'],
  ['matrix', true, ';color', ';color=blue', ';color=blue;color=black;color=brown', ';R=100;G=200;B=150'],
  ['label', false, '.', '.blue', '.blue,black,brown', '.R,100,G,200,B,150'],
  ['label', true, '.', '.blue', '.blue.black.brown', '.R=100.G=200.B=150'],
  ['simple', false, '', 'blue', 'blue,black,brown', 'R,100,G,200,B,150'],
  ['simple', true, '', 'blue', 'blue,black,brown', 'R=100,G=200,B=150'],
  ['form', false, 'color=', 'color=blue', 'color=blue,black,brown', 'color=R,100,G,200,B,150'],
  ['form', true, 'color=', 'color=blue', 'color=blue&color=black&color=brown', 'R=100&G=200&B=150'],
  ['spaceDelimited', false, null, null, 'color=blue%20black%20brown', 'color=R%20100%20G%20200%20B%20150'],
  ['spaceDelimited', true, null, null, null, null],
  ['pipeDelimited', false, null, null, 'color=blue%7Cblack%7Cbrown', 'color=R%7C100%7CG%7C200%7CB%7C150'],
  ['pipeDelimited', true, null, null, null, null],
  ['deepObject', false, null, null, null, null],
  ['deepObject', true, null, null, null, 'color%5BR%5D=100&color%5BG%5D=200&color%5BB%5D=150'],
];

const COLUMNS: Column[] = ['empty', 'string', 'array', 'object'];
const PATH_STYLES = new Set<ParamStyle>(['matrix', 'label', 'simple']);

function serialize(style: ParamStyle, explode: boolean, value: unknown): string {
  if (PATH_STYLES.has(style)) return compilePathParam({ name: 'color', in: 'path', style, explode })(value);
  return compileQueryParam({ name: 'color', in: 'query', style, explode })(value).join('&');
}

const cells = TABLE.flatMap(([style, explode, ...expected]) =>
  COLUMNS.map((column, i) => ({ style, explode, column, expected: expected[i] })).filter((c) => c.expected !== null),
);

describe('OAS 3.1 style examples', () => {
  // Two empty cells are written where they are safe: an empty simple value and a lone '.' would be an empty or a
  // dot segment in a path (see path.test.ts), so those cells are checked through the header encoder, which shares
  // the simple style, and the label cell is checked to be refused.
  const isUnsafePathCell = (c: (typeof cells)[number]) => c.column === 'empty' && (c.style === 'simple' || c.style === 'label');

  it.each(cells.filter((c) => !isUnsafePathCell(c)).map((c) => [c.style, c.explode, c.column, c.expected] as const))(
    'writes %s explode=%s %s as the table does',
    (style, explode, column, expected) => {
      expect(serialize(style, explode, VALUES[column])).toBe(expected);
    },
  );

  it.each([false, true])('writes the simple empty cell (explode=%s) for headers, which share simple style', (explode) => {
    expect(compileHeaderParam({ name: 'color', in: 'header', explode })('')).toBe('');
  });

  it.each([false, true])('refuses the label empty cell in a path (explode=%s), where "." would be a dot-segment', (explode) => {
    expect(() => compilePathParam({ name: 'color', in: 'path', style: 'label', explode })('')).toThrow(/dot-segment/);
  });

  it.each(COLUMNS.filter((c) => c !== 'empty'))('writes simple-style headers like the simple row for %s', (column) => {
    for (const explode of [false, true]) {
      const row = TABLE.find(([s, e]) => s === 'simple' && e === explode)!;
      expect(compileHeaderParam({ name: 'color', in: 'header', explode })(VALUES[column])).toBe(row[2 + COLUMNS.indexOf(column)]);
    }
  });

  it('writes null like the empty column (the 3.1.1 table calls it "undefined")', () => {
    expect(compilePathParam({ name: 'color', in: 'path', style: 'matrix' })(null)).toBe(';color');
    expect(compileQueryParam({ name: 'color', in: 'query' })(null)).toEqual(['color=']);
    expect(compileHeaderParam({ name: 'color', in: 'header' })(null)).toBe('');
  });

  it('writes form-style cookies like the form row, with "; " between exploded pairs', () => {
    const cookie = (explode: boolean) => compileCookieParam({ name: 'color', in: 'cookie', explode } satisfies ParamDef);
    expect(cookie(false)(VALUES.string)).toBe('color=blue');
    expect(cookie(false)(VALUES.array)).toBe('color=blue,black,brown');
    expect(cookie(false)(VALUES.object)).toBe('color=R,100,G,200,B,150');
    expect(cookie(true)(VALUES.empty)).toBe('color=');
    expect(cookie(true)(VALUES.array)).toBe('color=blue; color=black; color=brown');
    expect(cookie(true)(VALUES.object)).toBe('R=100; G=200; B=150');
  });
});

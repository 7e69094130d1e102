// JSON of any depth: nestingProblem() finds what nests too deep or contains itself without recursing, and jsonText()
// writes what JSON.stringify writes, also past the depth where JSON.stringify overflows the stack.
import { describe, expect, it } from 'vitest';
import { jsonText, nestingProblem } from '../../src/model/json.js';

/** `levels` arrays, one inside the other, built without recursion. */
function nestedArrays(levels: number): unknown[] {
  let v: unknown[] = [];
  for (let i = 1; i < levels; i++) v = [v];
  return v;
}

describe('nestingProblem', () => {
  it('counts the root as the first level and names the first container past the limit', () => {
    expect(nestingProblem(nestedArrays(5), 5)).toBeUndefined();
    expect(nestingProblem(nestedArrays(6), 5)).toEqual({ path: [0, 0, 0, 0, 0], cycle: false });
    expect(nestingProblem({ a: { b: [1, { c: {} }] } }, 4)).toEqual({ path: ['a', 'b', 1, 'c'], cycle: false });
    expect(nestingProblem({ a: { b: [1, { c: {} }] } }, 5)).toBeUndefined();
    expect(nestingProblem('text', 0)).toBeUndefined();
  });

  it('checks a value far deeper than the stack allows', () => {
    const problem = nestingProblem({ data: nestedArrays(200_000) }, 256);
    expect(problem?.path).toHaveLength(256);
    expect(problem?.path.slice(0, 2)).toEqual(['data', 0]);
    expect(nestingProblem({ data: nestedArrays(200_000) }, 300_000)).toBeUndefined();
  });

  it('finds a value that contains itself', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = { back: a };
    expect(nestingProblem({ a }, 100)).toEqual({ path: ['a', 'self', 'back'], cycle: true });
  });

  it('walks a subtree shared under many keys once, and still judges its depth where it is reached deeper', () => {
    // 64 levels, each holding the next twice: 2^64 paths, 64 objects.
    let shared: Record<string, unknown> = {};
    for (let i = 0; i < 64; i++) shared = { left: shared, right: shared };
    expect(nestingProblem(shared, 65)).toBeUndefined();
    // Reached first where it is too deep: walked down to the first container past the limit.
    const walked = nestingProblem({ first: {}, deeper: { again: shared } }, 66);
    expect([walked?.path.length, walked?.path.slice(0, 3), walked?.cycle]).toEqual([66, ['deeper', 'again', 'left'], false]);
    // Reached first where it fits: judged by its remembered height where it is reached again, deeper.
    expect(nestingProblem({ first: shared, deeper: { again: shared } }, 66)).toEqual({ path: ['deeper', 'again'], cycle: false });
  });

  it('judges a wide value past the quick walk\'s budget exactly', () => {
    const wide = Array.from({ length: 20_000 }, (_, i) => ({ i, tags: [i] }));
    expect(nestingProblem({ wide }, 4)).toBeUndefined();
    expect(nestingProblem({ wide }, 3)).toEqual({ path: ['wide', 0, 'tags'], cycle: false });
  });

  it('treats class instances as leaves (a Buffer is not walked index by index)', () => {
    expect(nestingProblem({ a: { b: Buffer.alloc(1_000_000) } }, 2)).toBeUndefined();
    expect(nestingProblem({ a: { b: new Date(0) } }, 2)).toBeUndefined();
  });
});

describe('jsonText', () => {
  const DEEP = 50_000;
  const deepText = '['.repeat(DEEP) + ']'.repeat(DEEP);

  it('is JSON.stringify for values it can write', () => {
    expect(jsonText({ a: 1, b: [true, null] }, 2)).toBe(JSON.stringify({ a: 1, b: [true, null] }, null, 2));
    expect(jsonText(undefined)).toBe('null');
  });

  it('writes a value nested deeper than JSON.stringify can', () => {
    expect(() => JSON.stringify(nestedArrays(DEEP))).toThrow(RangeError);
    expect(jsonText(nestedArrays(DEEP))).toBe(deepText);
    expect(jsonText(nestedArrays(DEEP), 2)).toBe(deepText); // without indentation, the only way at that depth
  });

  it("follows JSON.stringify's rules beside the deep part: toJSON, left-out members, null items, boxed values, odd keys", () => {
    const rules = {
      date: new Date(0),
      custom: { toJSON: (key: string) => `custom under ${key}` },
      gone: undefined,
      fn: () => 1,
      sym: Symbol('s'),
      items: [undefined, () => 1, Symbol('s'), NaN, -Infinity, -0, 1e21, 'quote " and \n and \u2028 and \ud800'],
      boxed: [Object(1), Object('s'), Object(false)],
      empty: [{}, []],
      map: new Map([['a', 1]]),
      bytes: new Uint8Array([1, 2]),
      'key "quoted"\n': 1,
      ['__proto__']: { own: true },
    };
    Object.defineProperty(rules, '__proto__', { value: { own: true }, enumerable: true });
    const value = { rules, deep: nestedArrays(DEEP) };
    const expected = `{"rules":${JSON.stringify(rules)},"deep":${deepText}}`;
    expect(jsonText(value)).toBe(expected);
    expect(JSON.parse(jsonText(value)).rules.__proto__).toEqual({ own: true });
  });

  it('refuses what JSON.stringify refuses: a value that contains itself, a BigInt', () => {
    const cyclic: Record<string, unknown> = { deep: nestedArrays(DEEP) };
    cyclic.self = cyclic;
    expect(() => jsonText(cyclic)).toThrow(TypeError);
    expect(() => jsonText({ deep: nestedArrays(DEEP), n: 1n })).toThrow(TypeError);
  });
});

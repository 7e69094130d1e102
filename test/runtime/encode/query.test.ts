// Query parameters: names, reserved characters, content-encoded values, types and empty values.
import { describe, expect, it } from 'vitest';
import type { ParamDef } from '../../../src/model/action.js';
import { compileQueryParam } from '../../../src/runtime/encode/index.js';
import { issuesOf } from './helpers.js';

const q = (p: Omit<ParamDef, 'in'>) => compileQueryParam({ in: 'query', ...p });

describe('compileQueryParam', () => {
  it('keeps brackets in declared names readable while encoding the rest of the name', () => {
    expect(q({ name: 'ids[]' })(['1', '2'])).toEqual(['ids[]=1', 'ids[]=2']);
    expect(q({ name: 'filter[status]' })('open')).toEqual(['filter[status]=open']);
    expect(q({ name: 'a b&c[x]' })('1')).toEqual(['a%20b%26c[x]=1']);
  });

  it('encodes values by RFC 3986, with space as %20 and sub-delimiters encoded', () => {
    expect(q({ name: 'q' })("a b&c=d+e/f?g#h[i]!'()*~")).toEqual(['q=a%20b%26c%3Dd%2Be%2Ff%3Fg%23h%5Bi%5D%21%27%28%29%2A~']);
  });

  it('passes reserved characters and %XX triples with allowReserved, but not those a query cannot hold raw', () => {
    const reserved = q({ name: 'r', allowReserved: true });
    expect(reserved('a/b:c@d,e;f!$\'()*')).toEqual(["r=a/b:c@d,e;f!$'()*"]);
    expect(reserved('x%2By %zz')).toEqual(['r=x%2By%20%25zz']);
    expect(reserved('a&b=c+d#e[f]')).toEqual(['r=a%26b%3Dc%2Bd%23e%5Bf%5D']);
  });

  it('writes booleans and numbers as their JSON text', () => {
    expect(q({ name: 'n', schema: { type: 'integer' } })(10)).toEqual(['n=10']);
    expect(q({ name: 'x', schema: { type: 'number' } })(0.5)).toEqual(['x=0.5']);
    expect(q({ name: 'b', schema: { type: 'boolean' } })(true)).toEqual(['b=true']);
    expect(q({ name: 'list' })([1, false, 2.5])).toEqual(['list=1', 'list=false', 'list=2.5']);
  });

  it('sends nothing for undefined, empty arrays and empty objects, and name= for null and ""', () => {
    for (const explode of [true, false]) {
      const p = q({ name: 'c', explode });
      expect(p(undefined)).toEqual([]);
      expect(p([])).toEqual([]);
      expect(p({})).toEqual([]);
      expect(p([null, undefined])).toEqual([]);
      expect(p(null)).toEqual(['c=']);
      expect(p('')).toEqual(['c=']);
    }
    expect(q({ name: 'd', style: 'deepObject', explode: true })({})).toEqual([]);
  });

  it('leaves null items out of arrays and null values out of exploded objects', () => {
    expect(q({ name: 'c' })(['a', null, 'b'])).toEqual(['c=a', 'c=b']);
    expect(q({ name: 'c' })({ a: 1, b: null })).toEqual(['a=1']);
    expect(q({ name: 'c', explode: false })(['a', null, 'b'])).toEqual(['c=a,b']);
  });

  it('encodes delimiters inside items so they stay data', () => {
    expect(q({ name: 'c', explode: false })(['a,b', 'c'])).toEqual(['c=a%2Cb,c']);
    expect(q({ name: 'c', style: 'pipeDelimited' })(['a|b', 'c'])).toEqual(['c=a%7Cb%7Cc']);
    expect(q({ name: 'c', style: 'spaceDelimited' })(['a b', 'c'])).toEqual(['c=a%20b%20c']);
    expect(q({ name: 'c', style: 'tabDelimited' })(['a', 'b'])).toEqual(['c=a%09b']);
  });

  it('repeats an exploded object key when its value is an array', () => {
    expect(q({ name: 'f' })({ tag: ['a', 'b'], n: 1 })).toEqual(['tag=a', 'tag=b', 'n=1']);
  });

  it('writes deepObject at any depth, arrays with indices, and a primitive as a plain value (Stripe created)', () => {
    const created = q({ name: 'created', style: 'deepObject', explode: true });
    expect(created({ gte: 1700000000, lt: 1800000000 })).toEqual(['created%5Bgte%5D=1700000000', 'created%5Blt%5D=1800000000']);
    expect(created(1700000000)).toEqual(['created=1700000000']);
    const expand = q({ name: 'expand', style: 'deepObject', explode: true });
    expect(expand(['data.customer', 'data.invoice'])).toEqual(['expand%5B0%5D=data.customer', 'expand%5B1%5D=data.invoice']);
    const filter = q({ name: 'filter', style: 'deepObject', explode: true });
    expect(filter({ a: { b: 'x y' }, 'k[1]': ['p'] })).toEqual(['filter%5Ba%5D%5Bb%5D=x%20y', 'filter%5Bk%5B1%5D%5D%5B0%5D=p']);
    expect(filter({ unset: null })).toEqual(['filter%5Bunset%5D=']);
  });

  it('sends a content-encoded parameter as one JSON value', () => {
    const coords = q({ name: 'coordinates', contentType: 'application/json' });
    expect(coords({ lat: 1.5, long: -2 })).toEqual(['coordinates=%7B%22lat%22%3A1.5%2C%22long%22%3A-2%7D']);
    expect(coords('x')).toEqual(['coordinates=%22x%22']);
    expect(q({ name: 't', contentType: 'text/plain' })('a b')).toEqual(['t=a%20b']);
    expect(coords(undefined)).toEqual([]);
  });

  it('refuses an object where the style needs a primitive, naming the entry', () => {
    expect(issuesOf(() => q({ name: 'c' })([{ a: 1 }]))).toEqual([{ location: 'query', path: '/c/0', message: expect.stringContaining('an object') }]);
    expect(issuesOf(() => q({ name: 'c', explode: false })({ a: { b: 1 } }))[0].path).toBe('/c/a');
    expect(issuesOf(() => q({ name: 'c' })({ a: [{ b: 1 }] }))[0].path).toBe('/c/a/0');
  });

  it('refuses a content-encoded value that has no JSON form', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(issuesOf(() => q({ name: 'j', contentType: 'application/json' })(cyclic))[0]).toMatchObject({ location: 'query', path: '/j' });
    expect(() => q({ name: 'j', contentType: 'application/json' })(10n)).toThrow(/JSON/);
  });

  it('fails at compile time for a style a query cannot have', () => {
    expect(() => q({ name: 'x', style: 'matrix' })).toThrow(/form, spaceDelimited/);
  });
});

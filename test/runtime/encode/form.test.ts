// Form-urlencoded bodies: Stripe-style bracket nesting, Twilio-style repeated keys, and the Encoding Object styles.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MediaDef } from '../../../src/model/action.js';
import { compileBodyEncoder } from '../../../src/runtime/encode/index.js';
import { issuesOf } from './helpers.js';

const FORM = 'application/x-www-form-urlencoded';
const deep = { style: 'deepObject', explode: true } as const;
// The encoding map Stripe's spec declares for POST /v1/checkout/sessions (subset).
const STRIPE_CHECKOUT: MediaDef = {
  encoding: { expand: deep, line_items: deep, metadata: deep, payment_method_types: deep, discounts: deep, subscription_data: deep },
};
const form = (media?: MediaDef) => {
  const encode = compileBodyEncoder(FORM, media);
  return (value: unknown) => encode(value).body as string;
};

describe('form-urlencoded body', () => {
  it('writes a Stripe checkout session with nested objects, arrays of objects and booleans', () => {
    const encoded = compileBodyEncoder(FORM, STRIPE_CHECKOUT)({
      mode: 'subscription',
      success_url: 'https://example.com/ok?session={CHECKOUT_SESSION_ID}',
      payment_method_types: ['card', 'sepa_debit'],
      line_items: [
        { price: 'price_1', quantity: 2, adjustable_quantity: { enabled: true, maximum: 5 } },
        { price_data: { currency: 'eur', unit_amount: 1999, product_data: { name: 'T-shirt', metadata: { size: 'M' } } }, quantity: 1 },
      ],
      metadata: { order_id: 'A-1', note: 'gift & wrap' },
      subscription_data: { trial_period_days: 7, items: [{ plan: 'p1' }] },
      discounts: '',
      expand: ['customer'],
      allow_promotion_codes: false,
    });
    expect(encoded.contentType).toBe(FORM);
    expect((encoded.body as string).split('&')).toEqual([
      'mode=subscription',
      'success_url=https%3A%2F%2Fexample.com%2Fok%3Fsession%3D%7BCHECKOUT_SESSION_ID%7D',
      'payment_method_types[0]=card',
      'payment_method_types[1]=sepa_debit',
      'line_items[0][price]=price_1',
      'line_items[0][quantity]=2',
      'line_items[0][adjustable_quantity][enabled]=true',
      'line_items[0][adjustable_quantity][maximum]=5',
      'line_items[1][price_data][currency]=eur',
      'line_items[1][price_data][unit_amount]=1999',
      'line_items[1][price_data][product_data][name]=T-shirt',
      'line_items[1][price_data][product_data][metadata][size]=M',
      'line_items[1][quantity]=1',
      'metadata[order_id]=A-1',
      'metadata[note]=gift+%26+wrap',
      'subscription_data[trial_period_days]=7',
      'subscription_data[items][0][plan]=p1',
      'discounts=',
      'expand[0]=customer',
      'allow_promotion_codes=false',
    ]);
  });

  it('writes Twilio array fields as repeated keys when the spec declares no encoding', () => {
    expect(form()({ To: '+15558675310', From: '+15017122661', Body: 'Hi there', MediaUrl: ['https://a.test/1.png', 'https://a.test/2.png'], StatusCallbackEvent: ['initiated', 'ringing'] })).toBe(
      'To=%2B15558675310&From=%2B15017122661&Body=Hi+there&MediaUrl=https%3A%2F%2Fa.test%2F1.png&MediaUrl=https%3A%2F%2Fa.test%2F2.png&StatusCallbackEvent=initiated&StatusCallbackEvent=ringing',
    );
  });

  it('nests objects and arrays of objects in brackets when the spec declares no encoding', () => {
    expect(form()({ metadata: { a: '1' }, items: [{ price: 'p' }], tags: [] })).toBe('metadata[a]=1&items[0][price]=p');
  });

  it('is read back as the same fields by URLSearchParams, including spaces, + and unicode', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary', minLength: 1 }).filter((k) => !/[[\]]/.test(k) && k !== '__proto__'), fc.string({ unit: 'binary' })), (fields) => {
        let body: string;
        try {
          body = form()(fields);
        } catch {
          return fc.pre(false); // lone surrogates are refused, tested below
        }
        expect(Object.fromEntries(new URLSearchParams(body))).toEqual(fields);
      }),
      { numRuns: 300 },
    );
  });

  it('encodes brackets that come from the data, so a key cannot fake nesting', () => {
    expect(form(STRIPE_CHECKOUT)({ metadata: { 'x][admin': 'true' } })).toBe('metadata[x%5D%5Badmin]=true');
    expect(form()({ 'fields[]': ['a', 'b'] })).toBe('fields[]=a&fields[]=b');
  });

  it('writes null as an empty value and leaves undefined out', () => {
    expect(form(STRIPE_CHECKOUT)({ a: null, b: undefined, metadata: { k: null, j: undefined } })).toBe('a=&metadata[k]=');
  });

  it('follows the Encoding Object: form explode false joins, form explode true spreads object keys', () => {
    const media: MediaDef = {
      encoding: {
        csv: { style: 'form', explode: false },
        pipes: { style: 'pipeDelimited', explode: false },
        spaces: { style: 'spaceDelimited', explode: false },
        spread: { style: 'form', explode: true },
        obj: { explode: false },
      },
    };
    expect(form(media)({ csv: ['a', 'b,c'], pipes: [1, 2], spaces: ['x', 'y'], spread: { R: 100, G: 200 }, obj: { k: 'v' } })).toBe(
      'csv=a,b%2Cc&pipes=1%7C2&spaces=x%20y&R=100&G=200&obj=k,v',
    );
  });

  it('sends a field with only a contentType as JSON text', () => {
    expect(form({ encoding: { meta: { contentType: 'application/json' } } })({ meta: { a: [1, 'x y'] } })).toBe(
      'meta=%7B%22a%22%3A%5B1%2C%22x+y%22%5D%7D',
    );
  });

  it('keeps reserved characters raw with allowReserved, except those form encoding gives a meaning', () => {
    expect(form({ encoding: { u: { allowReserved: true } } })({ u: 'https://x.test/a?b=c&d+e f' })).toBe('u=https://x.test/a?b%3Dc%26d%2Be+f');
  });

  it('takes a string or URLSearchParams as an already-encoded body', () => {
    expect(form()('a=1&b=2')).toBe('a=1&b=2');
    expect(form()(new URLSearchParams({ a: 'x y' }))).toBe('a=x+y');
  });

  it('refuses values that have no form text, naming the field', () => {
    expect(issuesOf(() => form()({ a: { b: [Symbol('x')] } }))).toEqual([{ location: 'body', path: '/a/b/0', message: expect.stringContaining('symbol') }]);
    expect(issuesOf(() => form()({ pipes: 1, list: [1, Number.POSITIVE_INFINITY] }))[0].path).toBe('/list/1');
    expect(issuesOf(() => form({ encoding: { c: { explode: false } } })({ c: [{ a: 1 }] }))[0].path).toBe('/c/0');
    expect(issuesOf(() => form()(['a']))[0]).toMatchObject({ path: '', message: expect.stringContaining('object of fields') });
    expect(() => form()({ s: 'a\uDC00' })).toThrow(/surrogate/);
  });

  it('sends nothing when the body is undefined', () => {
    expect(compileBodyEncoder(FORM)(undefined)).toEqual({ body: null });
  });
});

// Encoding a Stripe-style nested form body of 50 fields, per run (compiled encoder, warm).
import { compileBodyEncoder } from '../src/runtime/encode/index.js';
import { report } from './lib.js';

export async function benchEncode(): Promise<void> {
  const encoding = { metadata: { style: 'deepObject' as const, explode: true }, line_items: { style: 'deepObject' as const, explode: true } };
  const encode = compileBodyEncoder('application/x-www-form-urlencoded', { encoding });
  const body: Record<string, unknown> = {
    customer: 'cus_123',
    mode: 'payment',
    success_url: 'https://example.com/success?session={CHECKOUT_SESSION_ID}',
    cancel_url: 'https://example.com/cancel',
    metadata: Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`key_${i}`, `value ${i}`])),
    line_items: Array.from({ length: 6 }, (_, i) => ({ price: `price_${i}`, quantity: i + 1, adjustable_quantity: { enabled: i % 2 === 0 } })),
    payment_method_types: ['card', 'sepa_debit'],
    allow_promotion_codes: true,
    expires_at: 1_700_000_000,
  };
  const fields = String(encode(body).body).split('&').length;
  for (let i = 0; i < 20_000; i++) encode(body);
  const n = 100_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) encode(body);
  const us = ((performance.now() - t) * 1000) / n;
  report('encode_form_fields', fields, 'fields');
  report('encode_form_50_fields_us', us, 'us');
}

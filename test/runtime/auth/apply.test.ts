import { describe, expect, it } from 'vitest';
import { DuctapeError } from '../../../src/errors.js';
import type { ActionDef } from '../../../src/model/action.js';
import type { AppDef } from '../../../src/model/app.js';
import { redact, redactText, redactUrl } from '../../../src/model/redact.js';
import { compileAuth, credentialIdKey } from '../../../src/runtime/auth/apply.js';
import type { AuthConfig } from '../../../src/runtime/auth/forms.js';
import type { OutgoingRequest } from '../../../src/runtime/context.js';

const app: AppDef = {
  tag: 'acme-api',
  name: 'Acme',
  envs: [{ slug: 'prd', base_url: 'https://api.acme.test' }],
  auth_schemes: {
    keyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
    keyQuery: { type: 'apiKey', in: 'query', name: 'api_key' },
    keyCookie: { type: 'apiKey', in: 'cookie', name: 'session_id' },
    bearerAuth: { type: 'http', scheme: 'bearer' },
    basicAuth: { type: 'http', scheme: 'basic' },
    oauth: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: 'https://auth.acme.test/token', scopes: {} } } },
  },
};
const op = (security?: ActionDef['security']): ActionDef => ({ event: 'op', method: 'POST', path: '/x', parameters: [], security });
const idKey = credentialIdKey('pk', 'acme');
const request = (over: Partial<OutgoingRequest> = {}): OutgoingRequest => ({ method: 'POST', origin: 'https://api.acme.test', path: '/v1/x?a=1', headers: {}, body: null, ...over });

/** Compiles and applies with the forms themselves as resolved values (no placeholders in these tests). */
function run(auth: AuthConfig, security?: ActionDef['security'], req = request(), accessToken?: string) {
  const compiled = compileAuth(app, op(security), auth);
  compiled.apply(req, compiled.entries.map((e) => ({ form: e.form, accessToken })), idKey);
  return req;
}

function thrown(fn: () => unknown): DuctapeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DuctapeError) return err;
    throw err;
  }
  throw new Error('expected a DuctapeError');
}

describe('compileAuth', () => {
  it('sends a bearer token in Authorization', () => {
    expect(run({ type: 'bearer', token: 'tok_bearer_1' }, [{ bearerAuth: [] }]).headers.authorization).toBe('Bearer tok_bearer_1');
  });

  it('sends basic credentials base64-encoded (RFC 7617)', () => {
    const req = run({ type: 'basic', username: 'ada', password: 'pä:ss word' }, [{ basicAuth: [] }]);
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('ada:pä:ss word').toString('base64')}`);
  });

  it('refuses a basic username that holds a colon', () => {
    expect(thrown(() => run({ type: 'basic', username: 'a:b', password: 'p' })).code).toBe('CONFIG_ERROR');
  });

  it('sends an apiKey header named by the app scheme when the form names none', () => {
    const req = run({ type: 'apiKey', value: 'key_header_123' }, [{ keyHeader: [] }]);
    expect(req.headers['x-api-key']).toBe('key_header_123');
  });

  it('sends an apiKey in the query, replacing a caller param of the same name', () => {
    const req = run({ type: 'apiKey', in: 'query', value: 'k&y=1 2' }, [{ keyQuery: [] }], request({ path: '/v1/x?api_key=caller&b=2' }));
    expect(req.path).toBe('/v1/x?b=2&api_key=k%26y%3D1%202');
    expect(run({ type: 'apiKey', in: 'query', value: 'plain-key' }, [{ keyQuery: [] }], request({ path: '/p' })).path).toBe('/p?api_key=plain-key');
  });

  it('sends an apiKey cookie beside existing cookies, encoding what a cookie cannot hold', () => {
    const req = run({ type: 'apiKey', in: 'cookie', value: 'a;b c' }, [{ keyCookie: [] }], request({ headers: { cookie: 'theme=dark; session_id=old' } }));
    expect(req.headers.cookie).toBe('theme=dark; session_id=a%3Bb%20c');
  });

  it('sends every key of an AND-ed requirement', () => {
    const req = run(
      [
        { type: 'apiKey', value: 'hdr-value' },
        { type: 'apiKey', in: 'query', value: 'q-value' },
      ],
      [{ keyHeader: [], keyQuery: [] }],
    );
    expect(req.headers['x-api-key']).toBe('hdr-value');
    expect(req.path).toBe('/v1/x?a=1&api_key=q-value');
  });

  it('sends nothing and no credentialId when the action has security: []', () => {
    const req = run({ type: 'bearer', token: 'never-sent' }, []);
    expect(req.headers).toEqual({});
    expect(req.credentialId).toBeUndefined();
  });

  it('sends the oauth2 access token as a bearer token, with token_url from the scheme', () => {
    const compiled = compileAuth(app, op([{ oauth: ['read'] }]), { type: 'oauth2', grant: 'client_credentials', client_id: 'c', client_secret: 's' });
    expect(compiled.entries[0]).toMatchObject({ kind: 'oauth2', tokenUrl: 'https://auth.acme.test/token', scopes: ['read'] });
    const req = request();
    compiled.apply(req, [{ form: compiled.entries[0].form, accessToken: 'at_oauth_1' }], idKey);
    expect(req.headers.authorization).toBe('Bearer at_oauth_1');
  });

  it('applies raw header, query and JSON body templates', () => {
    const req = run(
      { headers: { 'X-Tenant-Token': 'raw-hdr-1' }, query: { sig: 'raw-q-1' }, body: { api_secret: 'raw-body-1' } },
      undefined,
      request({ headers: { 'content-type': 'application/json', 'content-length': '9' }, body: '{"a":1}' }),
    );
    expect(req.headers['x-tenant-token']).toBe('raw-hdr-1');
    expect(req.path).toBe('/v1/x?a=1&sig=raw-q-1');
    expect(JSON.parse(req.body as string)).toEqual({ a: 1, api_secret: 'raw-body-1' });
    expect(req.headers['content-length']).toBeUndefined();
  });

  it('merges raw body templates into form bodies and creates a JSON body when there is none', () => {
    const form = run({ body: { token: 'form-tok' } }, undefined, request({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' }));
    expect(form.body).toBe('a=1&token=form-tok');
    // The encoded pairs stay as the encode stage wrote them (they were re-serialized: list[x] became list%5Bx%5D); a
    // field already present is replaced where it stands.
    const kept = run({ body: { token: 'tok 2' } }, undefined, request({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'list[x]=1&token=old&b=c*d&token=again' }));
    expect(kept.body).toBe('list[x]=1&token=tok+2&b=c*d');
    const none = run({ body: { token: 'json-tok' } });
    expect([none.body, none.headers['content-type']]).toEqual(['{"token":"json-tok"}', 'application/json']);
  });

  it('refuses CR/LF inside a header value with INVALID_INPUT', () => {
    const err = thrown(() => run({ type: 'bearer', token: 'abc\r\nX-Evil: 1' }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).not.toContain('X-Evil');
    expect(thrown(() => run({ headers: { 'X-K': 'a\nb' } })).code).toBe('INVALID_INPUT');
  });

  it('needs a name for an apiKey when no scheme supplies one', () => {
    const bare: AppDef = { ...app, auth_schemes: {} };
    const err = thrown(() => compileAuth(bare, op(), { type: 'apiKey', value: 'x' }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toContain('need a name');
  });

  it('sets a credentialId that differs per credential and never contains the value', () => {
    const a = run({ type: 'bearer', token: 'tok_identity_aaa' });
    const b = run({ type: 'bearer', token: 'tok_identity_bbb' });
    const a2 = run({ type: 'bearer', token: 'tok_identity_aaa' });
    expect(a.credentialId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.credentialId).toBe(a2.credentialId);
    expect(a.credentialId).not.toBe(b.credentialId);
    // Keyed by the workspace key: another private_key gives another id for the same token.
    const other = compileAuth(app, op(), { type: 'bearer', token: 'tok_identity_aaa' });
    const req = request();
    other.apply(req, other.entries.map((e) => ({ form: e.form })), credentialIdKey('pk2', 'acme'));
    expect(req.credentialId).not.toBe(a.credentialId);
  });

  it('keeps the credentialId of oauth2 credentials when the access token is refreshed', () => {
    const compiled = compileAuth(app, op([{ oauth: [] }]), { type: 'oauth2', grant: 'client_credentials', client_id: 'c', client_secret: 's' });
    const ids = ['at_first_token', 'at_second_token'].map((accessToken) => {
      const req = request();
      compiled.apply(req, [{ form: compiled.entries[0].form, accessToken }], idKey);
      return req.credentialId;
    });
    expect(ids[0]).toBe(ids[1]);
    const other = compileAuth(app, op([{ oauth: [] }]), { type: 'oauth2', grant: 'client_credentials', client_id: 'c2', client_secret: 's' });
    const req = request();
    other.apply(req, [{ form: other.entries[0].form, accessToken: 'at_first_token' }], idKey);
    expect(req.credentialId).not.toBe(ids[0]);
  });

  it('makes every applied value redactable in text, headers and URLs', () => {
    const req = run(
      [
        { type: 'apiKey', name: 'X-Custom-Key', value: 'hdr_redact_value' },
        { type: 'apiKey', in: 'query', name: 'sig_custom', value: 'q_redact_value' },
        { type: 'basic', username: 'someone', password: 'pw_redact_value' },
      ],
      undefined,
    );
    expect(redact(req.headers)).toEqual({ 'x-custom-key': '[REDACTED]', authorization: '[REDACTED]' });
    expect(redactUrl(`https://api.acme.test${req.path}`)).toBe('https://api.acme.test/v1/x?a=1&sig_custom=[REDACTED]');
    expect(redactText(`sent ${req.headers.authorization}`)).toBe('sent Basic [REDACTED]');
  });
});

import { describe, expect, it } from 'vitest';
import { DuctapeError } from '../../../src/errors.js';
import { normalizeAuth } from '../../../src/runtime/auth/forms.js';

function issues(raw: unknown): string[] {
  try {
    normalizeAuth(raw);
  } catch (err) {
    if (err instanceof DuctapeError && err.code === 'CONFIG_ERROR') return (err.details.issues as { path: string; message: string }[]).map((i) => `${i.path} ${i.message}`);
    throw err;
  }
  return [];
}

describe('normalizeAuth', () => {
  it('accepts every form of API.md §3', () => {
    for (const form of [
      { type: 'bearer', token: '$Secret{T}' },
      { type: 'basic', username: 'u', password: '$Secret{P}' },
      { type: 'apiKey', in: 'query', name: 'key', value: 'v' },
      { type: 'apiKey', value: 'v' },
      { type: 'oauth2', grant: 'client_credentials', token_url: 'https://a.test/t', client_id: 'c', client_secret: 's', scopes: ['a'] },
      { type: 'oauth2', grant: 'refresh_token', token_url: 'https://a.test/t', client_id: 'c', refresh_token: 'r' },
      { type: 'action', event: 'login', input: { body: { user: 'u' } }, expiry: 600, headers: { Authorization: 'Bearer $Auth{token}' } },
      { headers: { 'X-Key': 'v' }, query: { k: 'v' }, body: { k: 'v' } },
    ]) {
      expect(issues(form)).toEqual([]);
    }
    expect(normalizeAuth({ type: 'bearer', token: 't' })).toEqual([{ type: 'bearer', token: 't' }]);
  });

  it('reports every problem at once with paths', () => {
    expect(issues({ type: 'oauth2', grant: 'password', client_id: 'c', tokn_url: 'x' })).toEqual([
      '/auth/tokn_url is not accepted for oauth2 (accepted: type, grant, client_id, token_url, client_secret, scopes, refresh_token, client_auth, params, scheme, authorize_url, redirect_uri, revoke_url, return_url)',
      '/auth/grant must be client_credentials, refresh_token or authorization_code',
    ]);
    expect(issues({ type: 'oauth2', grant: 'authorization_code', client_id: 'c', refresh_token: 'r', authorize_url: 'ftp://x' })).toEqual([
      '/auth/authorize_url must be an absolute http(s) URL',
      '/auth/refresh_token is not accepted for authorization_code: each owner gets their own when they connect',
      '/auth/redirect_uri is required for authorization_code (where the provider sends the user back)',
    ]);
    expect(issues({ type: 'oauth2', grant: 'refresh_token', client_id: 'c', refresh_token: 'r', redirect_uri: 'https://a.test/cb' })).toEqual([
      '/auth/redirect_uri is only accepted for the authorization_code grant',
    ]);
    expect(issues([{ type: 'bearer' }, { type: 'nope' }])).toEqual(['/auth/0/token is required', '/auth/1/type must be one of bearer, basic, apiKey, oauth2, raw, action (or omitted for raw templates)']);
    expect(issues({ type: 'oauth2', grant: 'client_credentials', client_id: 'c' })).toEqual(['/auth/client_secret is required for client_credentials']);
    expect(issues({ headers: { 'bad name': 'x' } })).toEqual(['/auth/headers/bad name is not a valid header name']);
    expect(issues({})).toEqual(['/auth raw templates need headers, query or body']);
  });
});

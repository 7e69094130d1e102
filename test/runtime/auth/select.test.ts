import { describe, expect, it } from 'vitest';
import { DuctapeError } from '../../../src/errors.js';
import type { ActionDef } from '../../../src/model/action.js';
import type { AppDef } from '../../../src/model/app.js';
import type { AuthForm } from '../../../src/runtime/auth/forms.js';
import { satisfies, selectRequirement } from '../../../src/runtime/auth/select.js';

const app: AppDef = {
  tag: 'acme-api',
  name: 'Acme',
  envs: [{ slug: 'prd', base_url: 'https://api.acme.test' }],
  auth_schemes: {
    bearerAuth: { type: 'http', scheme: 'bearer' },
    basicAuth: { type: 'http', scheme: 'basic' },
    keyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
    keySecret: { type: 'apiKey', in: 'header', name: 'X-Api-Secret' },
    keyQuery: { type: 'apiKey', in: 'query', name: 'api_key' },
    oauth: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: 'https://auth.acme.test/token', scopes: { read: '' } } } },
  },
  security: [{ bearerAuth: [] }, { basicAuth: [] }],
};
const action = (security?: ActionDef['security']): ActionDef => ({ event: 'op', method: 'GET', path: '/x', parameters: [], security });

const bearer: AuthForm = { type: 'bearer', token: 't' };
const basic: AuthForm = { type: 'basic', username: 'u', password: 'p' };
const key = (name?: string, where?: 'header' | 'query' | 'cookie'): AuthForm => ({ type: 'apiKey', name, in: where, value: 'v' });
const raw: AuthForm = { headers: { 'X-Raw': 'r' } };

describe('satisfies', () => {
  const s = app.auth_schemes!;
  it.each([
    ['bearer ↔ http bearer', bearer, 'bearerAuth', true],
    ['bearer ↔ oauth2', bearer, 'oauth', true],
    ['bearer ✗ basic', bearer, 'basicAuth', false],
    ['basic ↔ http basic', basic, 'basicAuth', true],
    ['apiKey by name (case-insensitive)', key('x-api-key'), 'keyHeader', true],
    ['apiKey by location only', key(undefined, 'query'), 'keyQuery', true],
    ['apiKey wrong location', key('X-Api-Key', 'query'), 'keyHeader', false],
    ['apiKey wrong name', key('X-Other'), 'keyHeader', false],
    ['pinned to a scheme by name', { ...basic, scheme: 'keyHeader' } as AuthForm, 'keyHeader', true],
    ['pinned elsewhere', { ...bearer, scheme: 'other' } as AuthForm, 'bearerAuth', false],
    ['raw never matches a scheme', raw, 'keyHeader', false],
  ])('%s', (_name, form, scheme, expected) => {
    expect(satisfies(form, scheme, s[scheme])).toBe(expected);
  });
});

describe('selectRequirement', () => {
  it('uses the app default requirement the credentials satisfy when the action declares none', () => {
    const sel = selectRequirement(app, action(), [basic]);
    expect(sel.requirement).toEqual(['basicAuth']);
    expect(sel.assignments.map((a) => a.schemeName)).toEqual(['basicAuth']);
  });

  it('sends nothing when the operation declares security: []', () => {
    expect(selectRequirement(app, action([]), [bearer, raw])).toEqual({ requirement: [], assignments: [] });
  });

  it('applies every scheme of an AND-ed requirement', () => {
    const sel = selectRequirement(app, action([{ keyHeader: [], keySecret: [] }]), [key('X-Api-Secret'), key('X-Api-Key')]);
    expect(sel.requirement).toEqual(['keyHeader', 'keySecret']);
    expect(sel.assignments.map((a) => [(a.form as { name: string }).name, a.schemeName])).toEqual([
      ['X-Api-Key', 'keyHeader'],
      ['X-Api-Secret', 'keySecret'],
    ]);
  });

  it('lets the bearer-token schemes of an AND share one token, sent once with every scheme\'s scopes (Google: Oauth2 + Oauth2c)', () => {
    const google: AppDef = { ...app, auth_schemes: { ...app.auth_schemes, oauthc: { type: 'oauth2', flows: { authorizationCode: { authorizationUrl: 'https://a.test', tokenUrl: 'https://a.test/t', scopes: {} } } } } };
    const sel = selectRequirement(google, action([{ oauth: ['read'], oauthc: ['write'] }]), [bearer]);
    expect(sel.requirement).toEqual(['oauth', 'oauthc']);
    expect(sel.assignments).toEqual([{ form: bearer, schemeName: 'oauth', scheme: google.auth_schemes!.oauth, scopes: ['read', 'write'] }]);
    // Schemes that need their own credential never share one: a bearer token does not stand for an apiKey too.
    expect(() => selectRequirement(google, action([{ oauth: [], keyHeader: [] }]), [bearer])).toThrow(/satisfy none/);
  });

  it('matches unnamed apiKey forms to distinct schemes of the same location', () => {
    const sel = selectRequirement(app, action([{ keyHeader: [], keySecret: [] }]), [key(undefined, 'header'), key(undefined, 'header')]);
    expect(sel.assignments.map((a) => a.schemeName)).toEqual(['keyHeader', 'keySecret']);
  });

  it('prefers the requirement that uses the most configured credentials', () => {
    const sel = selectRequirement(app, action([{ keyHeader: [] }, { keyHeader: [], keySecret: [] }]), [key('X-Api-Key'), key('X-Api-Secret')]);
    expect(sel.requirement).toEqual(['keyHeader', 'keySecret']);
  });

  it('passes requirement scopes along', () => {
    const sel = selectRequirement(app, action([{ oauth: ['read', 'write'] }]), [bearer]);
    expect(sel.assignments[0].scopes).toEqual(['read', 'write']);
  });

  it('takes an empty requirement (optional auth) when nothing else is satisfied, still sending opaque forms', () => {
    const sel = selectRequirement(app, action([{ keyHeader: [] }, {}]), [raw]);
    expect(sel.requirement).toEqual([]);
    expect(sel.assignments.map((a) => a.form)).toEqual([raw]);
  });

  it('sends every form with scheme defaults when nothing is declared', () => {
    const bare: AppDef = { ...app, security: undefined };
    const sel = selectRequirement(bare, action(), [key(undefined, 'query'), raw]);
    expect(sel.requirement).toBeNull();
    expect(sel.assignments.map((a) => a.schemeName)).toEqual(['keyQuery', undefined]);
  });

  it('sends nothing when no credentials are configured', () => {
    expect(selectRequirement(app, action(), [])).toEqual({ requirement: [], assignments: [] });
  });

  it('fails with CONFIG_ERROR naming the requirements when the credentials satisfy none', () => {
    let err: unknown;
    try {
      selectRequirement(app, action([{ keyHeader: [] }, { oauth: [] }]), [basic]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DuctapeError);
    expect((err as DuctapeError).code).toBe('CONFIG_ERROR');
    expect((err as Error).message).toContain('(basic) satisfy none of the security requirements of op: [keyHeader (apiKey in header "X-Api-Key")] or [oauth (oauth2)]');
  });
});

describe('selectRequirement with kinds that fit several schemes', () => {
  const both: AppDef = { ...app, security: [{ bearerAuth: [] }, { oauth: ['read'] }] };
  it('gives an oauth2 form to the oauth2 scheme rather than to http bearer', () => {
    const sel = selectRequirement(both, action(), [{ type: 'oauth2', grant: 'client_credentials', client_id: 'c', client_secret: 's' }]);
    expect(sel.requirement).toEqual(['oauth']);
  });
  it('gives a bearer form to http bearer rather than to oauth2', () => {
    const reversed: AppDef = { ...app, security: [{ oauth: [] }, { bearerAuth: [] }] };
    expect(selectRequirement(reversed, action(), [bearer]).requirement).toEqual(['bearerAuth']);
  });
});

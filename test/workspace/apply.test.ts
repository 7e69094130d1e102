// ductape apply: idempotent, --dry-run writes nothing, secrets from $Env, credentials sealed.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuctapeError, type Ductape } from '../../src/index.js';
import { redactText } from '../../src/model/redact.js';
import { authSpec } from '../helpers/auth-spec.js';
import { newClient } from '../helpers/client.js';
import { errorOf } from '../helpers/errors.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

let dir: string;
let upstream: Upstream;
let clients: Ductape[] = [];
const ENV = { DEMO_TOKEN_PRD: 'tok_APPLY_prd_0001', DEMO_TOKEN_DEV: 'tok_APPLY_dev_0002' };
const client = () => {
  const c = newClient({ store: `sqlite:${join(dir, 'ws.db')}` });
  clients.push(c);
  return c;
};
const fileHash = () => createHash('sha256').update(readFileSync(join(dir, 'ws.db'))).digest('hex');

function writeYaml(extra = '') {
  writeFileSync(
    join(dir, 'ductape.yaml'),
    `workspace: acme
apps:
  demo:
    spec: ./spec.json
    envs:
      prd: ${upstream.url}/v1
      dev: { base_url: "${upstream.url}/v1/" }
    constants: { region: eu }
products:
  shop:
    envs: [dev, prd]
    apps:
      demo:
        envs:
          prd:
            auth: { type: bearer, token: "$Secret{DEMO_TOKEN}" }
            variables: { account: acct_1 }
            headers: { X-Tenant: acme }
          dev:
            auth: { type: bearer, token: "$Secret{DEMO_TOKEN}" }
    sessions:
      user: { schema: { type: object, properties: { user: { type: object } } }, selector: "$Session{user}{id}", expiry: 600 }
    caches:
      items: { expiry: 60000 }
secrets:
  DEMO_TOKEN:
    - { value: "$Env{DEMO_TOKEN_PRD}", envs: [prd] }
    - { value: "$Env{DEMO_TOKEN_DEV}", envs: [dev] }
${extra}`,
  );
}

async function closeAll() {
  for (const c of clients) await c.close();
  clients = [];
}

describe('apply', () => {
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ductape-apply-'));
    upstream = await startUpstream();
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(authSpec('https://auth.example.test/token')));
    writeYaml();
  });
  afterEach(async () => {
    await closeAll();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plans without writing, applies, and changes nothing the second time', async () => {
    await client().ready();
    await closeAll();
    const empty = fileHash();

    const plan = await client().apply({ file: join(dir, 'ductape.yaml'), dry_run: true, env: ENV });
    await closeAll();
    expect(plan.dry_run).toBe(true);
    expect(plan.changes.map((c) => `${c.action} ${c.kind} ${c.target}`)).toEqual([
      'import app demo',
      'create env demo/prd',
      'create env demo/dev',
      'update app demo',
      'create product shop',
      'create connection shop/demo',
      'update connection shop/prd/demo',
      'update connection shop/dev/demo',
      'create session shop/user',
      'create cache shop/items',
      'set secret DEMO_TOKEN',
      'set secret DEMO_TOKEN',
    ]);
    expect(fileHash()).toBe(empty);

    const first = await client().apply({ file: join(dir, 'ductape.yaml'), env: ENV });
    expect(first.changes.length).toBeGreaterThan(0);
    expect(JSON.stringify([plan, first])).not.toContain('tok_APPLY');
    await closeAll();
    const applied = fileHash();

    const second = await client().apply({ file: join(dir, 'ductape.yaml'), env: ENV });
    expect(second.changes).toEqual([]);
    const again = await client().apply({ file: join(dir, 'ductape.yaml'), env: ENV, dry_run: true });
    expect(again.changes).toEqual([]);
    await closeAll();
    expect(fileHash()).toBe(applied);

    const d = client();
    expect(await d.actions.run({ env: 'prd', product: 'shop', app: 'demo', event: 'get_item', input: { params: { id: '7' } } })).toBeTruthy();
    const got = upstream.requests[upstream.requests.length - 1];
    expect([got.headers.authorization, got.headers['x-tenant'], got.url]).toEqual(['Bearer tok_APPLY_prd_0001', 'acme', '/v1/items/7']);
    await d.actions.run({ env: 'dev', product: 'shop', app: 'demo', event: 'get_item', input: { params: { id: '7' } } });
    expect(upstream.requests[upstream.requests.length - 1].headers.authorization).toBe('Bearer tok_APPLY_dev_0002');
    expect(readFileSync(join(dir, 'ws.db')).includes(Buffer.from('tok_APPLY'))).toBe(false);
  });

  it('sets only what changed in the environment or the file', async () => {
    await client().apply({ file: join(dir, 'ductape.yaml'), env: ENV });
    const changed = await client().apply({ file: join(dir, 'ductape.yaml'), env: { ...ENV, DEMO_TOKEN_PRD: 'tok_APPLY_prd_rotated' } });
    expect(changed.changes).toEqual([{ kind: 'secret', action: 'set', target: 'DEMO_TOKEN', detail: 'env prd' }]);
    writeFileSync(join(dir, 'ductape.yaml'), readFileSync(join(dir, 'ductape.yaml'), 'utf8').replace('expiry: 60000', 'expiry: 30000').replace('account: acct_1', 'account: acct_2'));
    const edited = await client().apply({ file: join(dir, 'ductape.yaml'), env: { ...ENV, DEMO_TOKEN_PRD: 'tok_APPLY_prd_rotated' } });
    expect(edited.changes.map((c) => `${c.action} ${c.kind} ${c.target} ${c.detail}`)).toEqual(['update connection shop/prd/demo variables', 'update cache shop/items expiry']);
  });

  it('sends an $Env value in a connection as it is, never as a template, and applies it once', async () => {
    // Before: the value became part of the template, so "tok$Now" went out with a timestamp in it and "hk\\$1"
    // without its backslash. A secret's value was never a template and stays exactly as given.
    writeFileSync(join(dir, 'ductape.yaml'), readFileSync(join(dir, 'ductape.yaml'), 'utf8').replace('auth: { type: bearer, token: "$Secret{DEMO_TOKEN}" }\n            variables', 'auth: { type: bearer, token: "$Env{RAW_TOKEN}" }\n            variables').replace('X-Tenant: acme', 'X-Tenant: "t-$Env{TENANT}"'));
    const env = { ...ENV, RAW_TOKEN: 'tok$Now', TENANT: 'hk\\$1', DEMO_TOKEN_PRD: 'sec\\$Now' };
    await client().apply({ file: join(dir, 'ductape.yaml'), env });
    expect((await client().apply({ file: join(dir, 'ductape.yaml'), env })).changes).toEqual([]);
    const d = client();
    await d.actions.run({ env: 'prd', product: 'shop', app: 'demo', event: 'get_item', input: { params: { id: '7' } } });
    const got = upstream.requests[upstream.requests.length - 1];
    expect([got.headers.authorization, got.headers['x-tenant']]).toEqual(['Bearer tok$Now', 't-hk\\$1']);
    expect((await d.secrets.get({ key: 'DEMO_TOKEN', env: 'prd' })).value).toBe('sec\\$Now');
  });

  it('writes \\$Env{…} as the text $Env{…}: in a secret and a constant as in a connection header', async () => {
    // Before: outside the connection templates the backslash stayed in the value (a secret read "\\$Env{X}").
    const file = join(dir, 'ductape.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('constants: { region: eu }', 'constants: { note: "cost \\\\$Env{X}" }').replace('X-Tenant: acme', 'X-Tenant: "\\\\$Env{X}"') + '  LITERAL: "a\\\\$Env{X}b"\n');
    const d = client();
    await d.apply({ file, env: ENV });
    expect((await d.secrets.get({ key: 'LITERAL' })).value).toBe('a$Env{X}b');
    expect((await d.apps.fetch({ app: 'demo' })).constants).toEqual({ note: 'cost $Env{X}' });
    await d.actions.run({ env: 'prd', product: 'shop', app: 'demo', event: 'get_item', input: { params: { id: '7' } } });
    expect(upstream.requests.at(-1)!.headers['x-tenant']).toBe('$Env{X}');
    expect((await d.apply({ file, env: ENV })).changes).toEqual([]);
  });

  it('redacts $Env values where credentials go, not the definitions that come from the environment', async () => {
    // Before: every $Env value was registered as a secret, so a base URL from the environment read "[REDACTED]" in
    // every later envelope, log and error of the process ("GET [REDACTED]/v1/items/7 failed…").
    writeFileSync(join(dir, 'ductape.yaml'), readFileSync(join(dir, 'ductape.yaml'), 'utf8').replace(`prd: ${upstream.url}/v1`, 'prd: "$Env{DEMO_BASE}"'));
    const d = client();
    await d.apply({ file: join(dir, 'ductape.yaml'), env: { ...ENV, DEMO_BASE: `${upstream.url}/v1` } });
    const res = await d.actions.execute({ env: 'prd', product: 'shop', app: 'demo', event: 'get_item', input: { params: { id: '7' } } });
    expect(res.request.url).toBe(`${upstream.url}/v1/items/7`);
    expect(redactText(`token ${ENV.DEMO_TOKEN_PRD}`)).toBe('token [REDACTED]');
  });

  it('fails naming the placeholder when an $Env variable is missing, before writing anything', async () => {
    let err: unknown;
    try {
      await client().apply({ file: join(dir, 'ductape.yaml'), env: { DEMO_TOKEN_PRD: 'x-value' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DuctapeError);
    expect((err as DuctapeError).message).toContain('$Env{DEMO_TOKEN_DEV} at /secrets/DEMO_TOKEN/1/value has no value');
    // An empty variable is said to be empty; a name like an Object.prototype member is a variable like any other
    // (before: "$Env{constructor}" stored the text of the Object function as the secret).
    const empty = await errorOf(client().apply({ file: join(dir, 'ductape.yaml'), env: { ...ENV, DEMO_TOKEN_DEV: '' } }));
    expect(empty.message).toContain('$Env{DEMO_TOKEN_DEV} at /secrets/DEMO_TOKEN/1/value has no value: environment variable DEMO_TOKEN_DEV is empty.');
    writeYaml('  OTHER: "$Env{constructor}"');
    const proto = await errorOf(client().apply({ file: join(dir, 'ductape.yaml'), env: ENV }));
    expect(proto.message).toBe('$Env{constructor} at /secrets/OTHER has no value: environment variable constructor is not set.');
    expect(await client().apps.list()).toEqual([]);
  });

  it('changes nothing the second time when the file overrides an env or a variable of the spec, or an action has a timeout', async () => {
    // Before: the spec's `shop` env and `pageSize` variable differed from the file's, so every apply re-imported the
    // spec (putting the spec's values back) and then set the file's again: two changes on every run, forever.
    copyFileSync(fileURLToPath(new URL('../fixtures/specs/shop/shop.postman_collection.json', import.meta.url)), join(dir, 'shop.json'));
    const file = join(dir, 'shop.yaml');
    writeFileSync(file, `apps:\n  shop:\n    spec: ./shop.json\n    envs:\n      shop: ${upstream.url}/api\n    variables:\n      pageSize: { type: number, default: 50 }\n`);
    const d = client();
    expect((await d.apply({ file })).changes.map((c) => `${c.action} ${c.kind} ${c.target}`)).toEqual(['import app shop', 'update env shop/shop', 'update app shop']);
    await d.apps.actions.update({ app: 'shop', event: 'get_product', timeout_ms: 5000 });
    expect((await d.apply({ file })).changes).toEqual([]);
    expect((await d.apps.fetch({ app: 'shop' })).envs).toEqual([{ slug: 'shop', base_url: `${upstream.url}/api` }]);
    expect((await d.apps.actions.fetch({ app: 'shop', event: 'get_product' })).timeoutMs).toBe(5000);
  });

  it('writes a new app or product name, and a new session sample, which it reported as "no changes"', async () => {
    const file = join(dir, 'ductape.yaml');
    const yaml = readFileSync(file, 'utf8').replace('  shop:\n    envs:', '  shop:\n    name: Shop\n    envs:').replace('    spec: ./spec.json', '    name: Demo\n    spec: ./spec.json');
    const withSample = (id: string) => yaml.replace('schema: { type: object, properties: { user: { type: object } } }', `sample: { user: { id: "${id}" } }`);
    writeFileSync(file, withSample('1'));
    const d = client();
    await d.apply({ file, env: ENV });
    writeFileSync(file, withSample('1').replace('name: Shop', 'name: Web shop').replace('name: Demo', 'name: Demo API'));
    expect((await d.apply({ file, env: ENV })).changes.map((c) => `${c.kind} ${c.target} ${c.detail}`)).toEqual(['app demo name', 'product shop name']);
    writeFileSync(file, withSample('1').replace('name: Shop', 'name: Web shop').replace('name: Demo', 'name: Demo API').replace('id: "1"', 'id: 1'));
    expect((await d.apply({ file, env: ENV })).changes.map((c) => `${c.kind} ${c.target} ${c.detail}`)).toEqual(['session shop/user sample']);
    expect((await d.apply({ file, env: ENV })).changes).toEqual([]);
    expect((await d.apps.fetch({ app: 'demo' })).name).toBe('Demo API');
    expect((await d.products.fetch({ product: 'shop' })).name).toBe('Web shop');
    expect((await d.products.sessions.fetch({ product: 'shop', tag: 'user' })).schema).toMatchObject({ properties: { user: { properties: { id: { type: 'integer' } } } } });
  });

  it('removes a connection rate_limit or per_user given null, once: a second apply changes nothing', async () => {
    const file = join(dir, 'ductape.yaml');
    const yaml = readFileSync(file, 'utf8');
    writeFileSync(file, yaml.replace('variables: { account: acct_1 }', 'variables: { account: acct_1 }\n            rate_limit: { requests: 5, per_ms: 1000 }'));
    const d = client();
    await d.apply({ file, env: ENV });
    writeFileSync(file, yaml.replace('variables: { account: acct_1 }', 'variables: { account: acct_1 }\n            rate_limit: null\n            per_user: null'));
    expect((await d.apply({ file, env: ENV })).changes).toEqual([{ kind: 'connection', action: 'update', target: 'shop/prd/demo', detail: 'rate_limit' }]);
    // Before: "update connection shop/prd/demo (rate_limit, per_user)" on every apply.
    expect((await d.apply({ file, env: ENV })).changes).toEqual([]);
    const rt = await d.services.runtime();
    expect((await rt.store.getConnection(rt.workspace, 'shop', 'prd', 'demo'))?.config.rate_limit).toBeUndefined();
  });

  it('applies access tags and cache tags named like Object.prototype members, once', async () => {
    // Before: "products.shop.apps.constructor: connected to app "undefined" in the workspace", and a cache 'toString'
    // "already exists".
    const file = join(dir, 'ductape.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('items: { expiry: 60000 }', 'items: { expiry: 60000 }\n      toString: { expiry: 1000 }').replace('    apps:\n      demo:\n', '    apps:\n      constructor: { app: demo }\n      demo:\n'));
    const d = client();
    const changes = (await d.apply({ file, env: ENV })).changes.map((c) => `${c.action} ${c.kind} ${c.target}`);
    expect(changes).toEqual(expect.arrayContaining(['create connection shop/constructor', 'create cache shop/toString']));
    expect((await d.apply({ file, env: ENV })).changes).toEqual([]);
    expect(await d.products.caches.delete({ product: 'shop', tag: 'valueOf' })).toEqual({ deleted: false });
  });

  it('refuses in a dry run what apply would refuse (an unknown app, a bad expiry), writing nothing', async () => {
    const file = join(dir, 'ductape.yaml');
    await client().ready();
    await closeAll();
    const empty = fileHash();
    writeFileSync(file, readFileSync(file, 'utf8').replace('      demo:\n        envs:', '      nope:\n        envs:'));
    const unknownApp = await errorOf(client().apply({ file, env: ENV, dry_run: true }));
    expect([unknownApp.code, unknownApp.message]).toEqual(['NOT_FOUND', 'No app "nope". Known: "demo". Create it with apps.create or apps.import.']);
    writeYaml();
    writeFileSync(file, readFileSync(file, 'utf8').replace('expiry: 60000', 'expiry: "60s"'));
    const badExpiry = await errorOf(client().apply({ file, env: ENV, dry_run: true }));
    expect(badExpiry.code).toBe('CONFIG_ERROR');
    expect(badExpiry.message).toContain('Invalid expiry');
    await closeAll();
    expect(fileHash()).toBe(empty);
  });

  it('rejects unknown keys with their path', async () => {
    writeYaml('extra_key: 1');
    await expect(client().apply({ file: join(dir, 'ductape.yaml'), env: ENV })).rejects.toThrow(/\/extra_key: unknown key/);
  });

  it('checks the keys of caches and session types, and needs a cache expiry, before writing anything', async () => {
    // A misspelt key was ignored, and a cache without expiry was skipped: apply said nothing and created no cache.
    const file = join(dir, 'ductape.yaml');
    const yaml = readFileSync(file, 'utf8');
    for (const [from, to, message] of [
      ['items: { expiry: 60000 }', 'items: { expiry: 60000, expirey: 5 }', '/products/shop/caches/items/expirey: unknown key (accepted: expiry)'],
      ['items: { expiry: 60000 }', 'items: {}', '/products/shop/caches/items/expiry: required (milliseconds, e.g. 60000)'],
      ['expiry: 600 }', 'expiry: 600, selectr: x }', '/products/shop/sessions/user/selectr: unknown key (accepted: schema, sample, selector, expiry, refresh_expiry)'],
    ]) {
      writeFileSync(file, yaml.replace(from, to));
      const err = await errorOf(client().apply({ file, env: ENV }));
      expect([err.code, err.message]).toEqual(['CONFIG_ERROR', `Invalid workspace file: ${message}.`]);
    }
    expect(await client().products.list()).toEqual([]);
  });

  it('refuses two values of a secret for the same env and app, which made every apply write both', async () => {
    writeYaml('    - { value: second, envs: [dev, prd], apps: [demo] }\n    - { value: again, envs: [prd] }');
    const err = await errorOf(client().apply({ file: join(dir, 'ductape.yaml'), env: ENV }));
    expect([err.code, err.message]).toEqual([
      'CONFIG_ERROR',
      'Invalid workspace file: /secrets/DEMO_TOKEN/3: a second value for env prd (/secrets/DEMO_TOKEN/0 gives one); give each env and app one value.',
    ]);
    expect(await client().secrets.list()).toEqual([]);
  });

  it('takes YAML merge keys (<<: *defaults) as anchors are mostly used', async () => {
    const file = join(dir, 'ductape.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('          dev:\n            auth: { type: bearer, token: "$Secret{DEMO_TOKEN}" }', '          dev:\n            <<: *prd'));
    writeFileSync(file, readFileSync(file, 'utf8').replace('          prd:\n            auth:', '          prd: &prd\n            auth:'));
    const d = client();
    await d.apply({ file, env: ENV });
    const rt = await d.services.runtime();
    // dev took prd's variables and headers through the merge key (before: "/…/dev/<<: unknown key").
    expect((await rt.store.getConnection(rt.workspace, 'shop', 'dev', 'demo'))?.config).toMatchObject({ variables: { account: 'acct_1' }, headers: { 'X-Tenant': 'acme' } });
    expect((await d.apply({ file, env: ENV })).changes).toEqual([]);
  });

  it('refuses a value that contains itself through a YAML alias, or nests too deep, before writing anything', async () => {
    const file = join(dir, 'ductape.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('constants: { region: eu }', 'constants: &c { region: eu, again: *c }'));
    const cyclic = await errorOf(client().apply({ file, env: ENV }));
    expect([cyclic.code, cyclic.message]).toEqual(['CONFIG_ERROR', `${file}: /apps/demo/constants/again contains itself through a YAML alias.`]);

    writeYaml();
    writeFileSync(file, readFileSync(file, 'utf8').replace('constants: { region: eu }', `constants: { deep: ${'['.repeat(300)}${']'.repeat(300)} }`));
    const deep = await errorOf(client().apply({ file, env: ENV }));
    expect([deep.code, deep.message]).toEqual(['CONFIG_ERROR', `${file}: /apps/demo/constants/deep/0/0/0/0 holds values nested more than 256 levels deep.`]);
    expect(await client().apps.list()).toEqual([]);
  });
});

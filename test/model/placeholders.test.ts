// Table-driven tests of the placeholder engine: parsing, typing, interpolation, escapes, errors, identity.
import { describe, expect, it } from 'vitest';
import { DuctapeError } from '../../src/errors.js';
import {
  asLiteral,
  compileTemplate,
  formatPlaceholder,
  getPath,
  hasPlaceholders,
  missing,
  parsePlaceholder,
  type PlaceholderKind,
  type Resolver,
} from '../../src/model/placeholders.js';

const values: Record<string, unknown> = {
  session: { user: { id: '42', age: 31, tags: ['a', 'b'], admin: false }, note: '$Secret{X}', nothing: null, list: [{ n: 1 }] },
  secrets: { STRIPE_KEY: 'sk_test_1', X: 'leaked' },
  variables: { account: 'acct_1', region: { name: 'eu' }, n: 7 },
  constants: { version: '2024-01-01', limits: { max: 100 } },
  auth: { token: 'tok', nested: { a: 1 } },
  env: { HOME_DIR: '/home/x' },
};

const resolve: Resolver = (kind, path) => {
  switch (kind) {
    case 'Session':
      return getPath(values.session, path);
    case 'Secret':
      return (values.secrets as Record<string, unknown>)[path[0]];
    case 'Variable':
      return getPath(values.variables, path);
    case 'Constant':
      return getPath(values.constants, path);
    case 'Auth':
      return getPath(values.auth, path);
    case 'Env':
      return (values.env as Record<string, unknown>)[path[0]];
    case 'Now':
      return '2025-01-02T03:04:05.000Z';
  }
};

function errorOf(fn: () => unknown): DuctapeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DuctapeError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('compileTemplate', () => {
  const cases: [string, unknown, unknown][] = [
    ['keeps a number when the string is exactly one placeholder', '$Session{user}{age}', 31],
    ['keeps a boolean when the string is exactly one placeholder', '$Session{user}{admin}', false],
    ['keeps an object when the string is exactly one placeholder', '$Variable{region}', { name: 'eu' }],
    ['keeps an array when the string is exactly one placeholder', '$Session{user}{tags}', ['a', 'b']],
    ['keeps null when the value is null', '$Session{nothing}', null],
    ['reads array items by index', '$Session{list}{0}{n}', 1],
    ['interpolates a string inside text', 'Bearer $Secret{STRIPE_KEY}', 'Bearer sk_test_1'],
    ['interpolates a number inside text', 'age=$Session{user}{age}!', 'age=31!'],
    ['interpolates an object as JSON inside text', 'r=$Variable{region}', 'r={"name":"eu"}'],
    ['interpolates null as null inside text', 'x$Session{nothing}', 'xnull'],
    ['interpolates several placeholders', '$Variable{account}/$Constant{version}/$Variable{n}', 'acct_1/2024-01-01/7'],
    ['follows $Variable{a}{b} paths', '$Variable{region}{name}', 'eu'],
    ['follows $Constant{a}{b} paths', '$Constant{limits}{max}', 100],
    ['reads $Auth paths', '$Auth{nested}{a}', 1],
    ['reads $Env', '$Env{HOME_DIR}', '/home/x'],
    ['resolves $Now', 'at $Now', 'at 2025-01-02T03:04:05.000Z'],
    ['unescapes \\$ into a literal dollar', '\\$Secret{X}', '$Secret{X}'],
    ['unescapes \\$ next to a real placeholder', '\\$$Variable{n}', '$7'],
    ['leaves a dollar that starts no placeholder alone', 'costs $5 or $USD 5', 'costs $5 or $USD 5'],
    ['leaves $Nowhere alone since it is not $Now', '$Nowhere', '$Nowhere'],
    ['leaves ${HOME} (shell syntax) alone', '${HOME}', '${HOME}'],
    ['never resolves a resolved value again', '$Session{note}', '$Secret{X}'],
    ['never resolves a resolved value inside text either', 'n: $Session{note}', 'n: $Secret{X}'],
    ['resolves strings deep inside objects and arrays', { a: [{ b: '$Variable{n}' }, 'x'], c: 1 }, { a: [{ b: 7 }, 'x'], c: 1 }],
    ['leaves keys alone', { $set: { '$Secret{X}': 1 } }, { $set: { '$Secret{X}': 1 } }],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(compileTemplate(input).evaluate(resolve, 'body')).toEqual(expected);
  });

  it('returns the very same value when there is nothing to resolve', () => {
    const input = { body: { a: [1, 'two', { c: 'no dollars' }], d: '$5' }, query: { q: 'x' } };
    const t = compileTemplate(input);
    expect(t.isStatic).toBe(true);
    expect(t.kinds.size).toBe(0);
    expect(t.evaluate(resolve)).toBe(input);
  });

  it('unescapes at compile time so that a static template with escapes returns one precomputed value', () => {
    const input = { a: 'price \\$5', b: { c: 1 } };
    const t = compileTemplate(input);
    expect(t.isStatic).toBe(true);
    const first = t.evaluate(() => {
      throw new Error('resolver must not be called');
    });
    expect(first).toEqual({ a: 'price $5', b: { c: 1 } });
    expect(t.evaluate(resolve)).toBe(first);
    expect((first as { b: unknown }).b).toBe(input.b);
    expect(input.a).toBe('price \\$5');
  });

  it('shares unchanged branches with the input and never mutates it', () => {
    const untouched = { deep: ['x'] };
    const input = { body: { id: '$Variable{n}', untouched } };
    const out = compileTemplate(input).evaluate(resolve) as { body: { id: unknown; untouched: unknown } };
    expect(out.body.id).toBe(7);
    expect(out.body.untouched).toBe(untouched);
    expect(input.body.id).toBe('$Variable{n}');
  });

  it('lists the kinds it uses', () => {
    const t = compileTemplate({ a: '$Session{x}', b: ['$Secret{K} and $Now'] });
    expect([...t.kinds].sort()).toEqual(['Now', 'Secret', 'Session']);
    expect(t.isStatic).toBe(false);
  });

  it('lists every placeholder it uses, in order', () => {
    const t = compileTemplate({ a: 'x $Secret{A} $Session{u}{id}', b: ['$Secret{B}'] });
    expect(t.refs.map((r) => [r.kind, ...r.path])).toEqual([['Secret', 'A'], ['Session', 'u', 'id'], ['Secret', 'B']]);
    expect(compileTemplate({ a: 'plain' }).refs).toEqual([]);
  });

  it('evaluates again with fresh values each time', () => {
    const t = compileTemplate('$Variable{v}');
    expect(t.evaluate(() => 1)).toBe(1);
    expect(t.evaluate(() => 2)).toBe(2);
  });

  const compileErrors: [string, unknown, PlaceholderKind[] | undefined, string, string, RegExp][] = [
    ['an unknown kind with braces', { params: { id: '$Sesion{user}{id}' } }, undefined, 'params', '/id', /unknown placeholder \$Sesion\{user\}\{id\} \(did you mean \$Session\?\)/],
    ['a disallowed kind', { headers: { h: '$Env{HOME}' } }, ['Session', 'Secret'], 'headers', '/h', /\$Env\{HOME\} is not allowed here/],
    ['a secret without a key', { body: { k: 'x $Secret y' } }, undefined, 'body', '/k', /malformed placeholder \$Secret: write it as \$Secret\{KEY\}/],
    ['a secret with two keys', { body: { k: '$Secret{A}{B}' } }, undefined, 'body', '/k', /malformed placeholder \$Secret\{A\}\{B\}/],
    ['$Now with a segment', { query: { t: '$Now{x}' } }, undefined, 'query', '/t', /malformed placeholder \$Now\{x\}/],
    ['an unclosed brace', { body: { a: ['$Session{user'] } }, undefined, 'body', '/a/0', /a "\{" is not closed/],
    ['nested braces', { body: { a: '$Session{a{b}}' } }, undefined, 'body', '/a', /not closed, or braces are nested/],
    ['an empty segment', { body: { 'a/b': '$Variable{}' } }, undefined, 'body', '/a~1b', /empty \{\} segment/],
  ];
  it.each(compileErrors)('throws INVALID_INPUT naming the placeholder and where for %s', (_n, input, allow, location, path, message) => {
    const err = errorOf(() => compileTemplate(input, { allow }));
    expect(err.code).toBe('INVALID_INPUT');
    const issues = (err as unknown as { issues: { location: string; path: string; message: string }[] }).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ location, path });
    expect(issues[0].message).toMatch(message);
  });

  it('refuses values nested too deeply to check instead of passing them through', () => {
    let deep: unknown = { s: '$Session{x}' };
    for (let i = 0; i < 70; i++) deep = { d: deep };
    expect(hasPlaceholders(deep)).toBe(true);
    const err = errorOf(() => compileTemplate({ body: deep }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('nested more than 64 levels deep');
  });

  it('refuses a value that contains itself, naming where the walk met it', () => {
    const body: Record<string, unknown> = { name: 'x' };
    body.self = { back: body };
    const err = errorOf(() => compileTemplate({ body }));
    expect([err.code, err.message]).toEqual(['INVALID_INPUT', 'Placeholder error: body/self/back/self/back/self/back/self/back: holds a circular reference; pass plain JSON data.']);
  });

  it('reports every problem at once', () => {
    const err = errorOf(() => compileTemplate({ body: { a: '$Nope{x}', b: '$Env{Y}' }, query: { c: '$Secret' } }, { allow: ['Session'] }));
    const issues = (err as unknown as { issues: { location: string; path: string }[] }).issues;
    expect(issues.map((i) => `${i.location}${i.path}`)).toEqual(['body/a', 'body/b', 'query/c']);
  });

  it('uses the given location for a value compiled on its own', () => {
    const err = errorOf(() => compileTemplate({ id: '$Bad{x}' }, { where: 'params' }));
    expect((err as unknown as { issues: unknown[] }).issues).toEqual([expect.objectContaining({ location: 'params', path: '/id' })]);
  });

  it('throws CONFIG_ERROR for problems in stored config locations', () => {
    const err = errorOf(() => compileTemplate({ token: '$Bad{x}' }, { where: 'connection.auth' }));
    expect(err.code).toBe('CONFIG_ERROR');
    expect(err.message).toContain('connection.auth/token');
    expect(err.message).toContain('$Bad{x}');
  });

  const missingCases: [string, unknown, string, string, RegExp][] = [
    ['a missing session path', { params: { userId: '$Session{user}{email}' } }, 'params', '/userId', /\$Session\{user\}\{email\} has no value: the session data has nothing at user.email/],
    ['a missing secret inside text', { headers: { a: 'Bearer $Secret{NOPE}' } }, 'headers', '/a', /\$Secret\{NOPE\} has no value: no secret "NOPE"/],
    ['a missing variable deep in the body', { body: { x: [{ y: '$Variable{zz}' }] } }, 'body', '/x/0/y', /\$Variable\{zz\} has no value/],
    ['a prototype property', { body: { p: '$Session{constructor}' } }, 'body', '/p', /\$Session\{constructor\} has no value/],
    ['__proto__', { body: { p: '$Session{__proto__}' } }, 'body', '/p', /has no value/],
    ['a non-index segment on an array', { body: { p: '$Session{user}{tags}{length}' } }, 'body', '/p', /has no value/],
  ];
  it.each(missingCases)('throws INVALID_INPUT naming the placeholder for %s', (_n, input, location, path, message) => {
    const err = errorOf(() => compileTemplate(input).evaluate(resolve));
    expect(err.code).toBe('INVALID_INPUT');
    const issues = (err as unknown as { issues: { location: string; path: string; message: string }[] }).issues;
    expect(issues[0]).toMatchObject({ location, path });
    expect(issues[0].message).toMatch(message);
    expect(err.message).toContain(`${location}${path}`);
  });

  it('carries the reason a resolver gives with missing()', () => {
    const err = errorOf(() => compileTemplate('$Session{user}{id}').evaluate(() => missing('this run has no session'), 'params'));
    expect(err.message).toContain('$Session{user}{id} has no value: this run has no session');
  });

  it('reports every missing value at once', () => {
    const err = errorOf(() => compileTemplate({ body: { a: '$Variable{x}', b: '$Variable{y}' } }).evaluate(() => undefined));
    expect((err as unknown as { issues: unknown[] }).issues).toHaveLength(2);
  });

  it('does not leak a secret value into the error of another missing placeholder', () => {
    const err = errorOf(() => compileTemplate({ a: '$Secret{STRIPE_KEY}', b: '$Secret{NOPE}' }).evaluate(resolve, 'headers'));
    expect(JSON.stringify(err.toJSON())).not.toContain('sk_test_1');
  });
});

describe('hasPlaceholders', () => {
  const cases: [unknown, boolean][] = [
    ['plain', false],
    ['$5 and $USD', false],
    ['$Now', true],
    ['\\$ escaped', true],
    ['$Typo{x}', true],
    [{ a: [1, { b: '$Session{x}' }] }, true],
    [{ a: [1, { b: 'x' }], c: null, d: 3 }, false],
    [new Date(), false],
    [Buffer.from('$Session{x}'), false],
    [42, false],
    [null, false],
    [undefined, false],
  ];
  it.each(cases)('says whether %j needs compiling', (value, expected) => {
    expect(hasPlaceholders(value)).toBe(expected);
  });

  it('agrees with compileTemplate about identity', () => {
    for (const [value, expected] of cases) {
      let isIdentity: boolean;
      try {
        const t = compileTemplate(value);
        isIdentity = t.isStatic && t.evaluate(resolve) === value;
      } catch {
        isIdentity = false;
      }
      expect(isIdentity).toBe(!expected);
    }
  });
});

describe('asLiteral', () => {
  it('makes any value compile to itself: every placeholder, escape and stray dollar stays text', () => {
    const date = new Date(0);
    const value = { a: ['$Now', '\\$x', '$5', 'plain', 7, null], b: { c: '$Secret{K} $Variable{v}{w} $Typo{x}' }, d: date };
    const literal = asLiteral(value);
    expect(compileTemplate(literal, { allow: ['Session'] }).evaluate(() => 'RESOLVED')).toEqual(value);
    expect((literal as { d: Date }).d).toBe(date);
    expect(value.a[0]).toBe('$Now'); // the argument is copied, not changed
  });

  it('keeps a "__proto__" key a property, as JSON.parse made it', () => {
    const literal = asLiteral(JSON.parse('{"__proto__": {"polluted": "$Now"}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(literal)).toBe(Object.prototype);
    expect(Object.hasOwn(literal, '__proto__')).toBe(true);
    expect(compileTemplate(literal).evaluate(() => undefined)).toEqual(JSON.parse('{"__proto__": {"polluted": "$Now"}}'));
  });
});

describe('parsePlaceholder', () => {
  it('parses a string that is exactly one placeholder', () => {
    expect(parsePlaceholder('$Session{user}{id}')).toEqual({ kind: 'Session', path: ['user', 'id'] });
  });
  it('returns undefined for text around a placeholder, a disallowed kind or plain text', () => {
    expect(parsePlaceholder('id: $Session{user}{id}')).toBeUndefined();
    expect(parsePlaceholder('$Secret{X}', ['Session'])).toBeUndefined();
    expect(parsePlaceholder('user.id')).toBeUndefined();
  });
  it('round-trips with formatPlaceholder', () => {
    expect(formatPlaceholder('Variable', ['a', 'b'])).toBe('$Variable{a}{b}');
    expect(parsePlaceholder(formatPlaceholder('Variable', ['a', 'b']))).toEqual({ kind: 'Variable', path: ['a', 'b'] });
  });
});

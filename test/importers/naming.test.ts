import { describe, expect, it } from 'vitest';
import { createNamer, envSlug, eventFromPath, toSnakeCase } from '../../src/importers/naming.js';

describe('toSnakeCase', () => {
  it.each([
    ['PostCustomers', 'post_customers'],
    ['getUserByName', 'get_user_by_name'],
    ['getHTTPResponseCode', 'get_http_response_code'],
    ['api.v2010.account.create', 'api_v2010_account_create'],
    ['ListAccount', 'list_account'],
    ["Get a user's profile", 'get_a_users_profile'],
    ['  Crème brûlée -- v2 ', 'creme_brulee_v2'],
    ['snake_case_already', 'snake_case_already'],
    ['---', ''],
  ])('turns %j into %j', (input, expected) => {
    expect(toSnakeCase(input)).toBe(expected);
  });

  it('cuts very long names at a word boundary', () => {
    const name = toSnakeCase('word '.repeat(60));
    expect(name.length).toBeLessThanOrEqual(100);
    expect(name.endsWith('_')).toBe(false);
  });
});

describe('eventFromPath', () => {
  it.each([
    ['GET', '/content/{source}/{section}.json', 'get_content_source_section'],
    ['DELETE', '/users/{userId}/posts', 'delete_users_user_id_posts'],
    ['GET', '/', 'get_root'],
  ])('names %s %s as %j', (method, path, expected) => {
    expect(eventFromPath(method, path)).toBe(expected);
  });
});

describe('createNamer', () => {
  it('suffixes clashes with the first free number and warns', () => {
    const warnings: string[] = [];
    const namer = createNamer(warnings);
    expect([namer.claim('a', 'x'), namer.claim('a', 'y'), namer.claim('a_2', 'z'), namer.claim('a', 'w')]).toEqual(['a', 'a_2', 'a_2_2', 'a_3']);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toBe('Event "a" is already taken; y is named "a_2".');
  });
});

describe('envSlug', () => {
  it.each([
    ['https://api.stripe.com', undefined, 'api'],
    ['https://api.example.com', 'Sandbox server', 'sandbox'],
    ['https://api.example.com', 'Production', 'production'],
    ['https://api.sandbox.example.com', undefined, 'sandbox'],
    ['https://www.googleapis.com', undefined, 'googleapis'],
    ['http://localhost:8080', undefined, 'local'],
    ['/api/v3', undefined, 'default'],
    ['https://{tenant}.example.com', undefined, 'default'],
  ])('gives %s (%s) the slug %j', (url, description, slug) => {
    expect(envSlug(url, description)).toBe(slug);
  });
});

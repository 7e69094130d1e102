// Event tags and env slugs for imported apps: snake_case names, numeric suffixes on clashes.

const MAX_EVENT_LENGTH = 100;

/**
 * snake_case for identifiers and free text: `PostCustomers` → `post_customers`, `getHTTPResponse` →
 * `get_http_response`, `api.v2010.account.create` → `api_v2010_account_create`, `Get a user's profile` →
 * `get_a_users_profile`. Letters and the digits that follow them stay together (`v2010`, `oauth2`).
 */
export function toSnakeCase(text: string): string {
  const snake = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents: café → cafe
    .replace(/['’`]/g, '') // user's → users, not user_s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
  return truncateAtWord(snake, MAX_EVENT_LENGTH);
}

function truncateAtWord(name: string, max: number): string {
  if (name.length <= max) return name;
  const cut = name.slice(0, max);
  const at = cut.lastIndexOf('_');
  return at > max / 2 ? cut.slice(0, at) : cut;
}

/** Event for an operation without operationId: `<method>_<path words>`, file extensions (`.json`) dropped. */
export function eventFromPath(method: string, path: string): string {
  const words = path
    .split('/')
    .filter(Boolean)
    .map((segment, i, all) => (i === all.length - 1 ? segment.replace(/\.(json|xml|csv|txt|html)$/i, '') : segment))
    .map((segment) => toSnakeCase(segment.replace(/[{}]/g, ' ')))
    .filter(Boolean);
  return toSnakeCase(`${method}_${words.length ? words.join('_') : 'root'}`);
}

/**
 * Hands out unique names. A clash gets the first free numeric suffix (`_2`, `_3`, …) and a warning that
 * names what got renamed, so users can find and rename it.
 */
export function createNamer(warnings: string[], separator = '_', kind = 'Event') {
  const used = new Set<string>();
  return {
    claim(base: string, what: string): string {
      if (!used.has(base)) {
        used.add(base);
        return base;
      }
      let n = 2;
      while (used.has(`${base}${separator}${n}`)) n++;
      const name = `${base}${separator}${n}`;
      used.add(name);
      warnings.push(`${kind} "${base}" is already taken; ${what} is named "${name}".`);
      return name;
    },
    has: (name: string) => used.has(name),
  };
}

const ENV_WORDS: [RegExp, string][] = [
  [/\b(sandbox)\b/i, 'sandbox'],
  [/\b(staging|stage)\b/i, 'staging'],
  [/\b(production|prod|live)\b/i, 'production'],
  [/\b(test|testing)\b/i, 'test'],
  [/\b(development|dev)\b/i, 'development'],
  [/\b(mock|mocking)\b/i, 'mock'],
  [/\b(local|localhost)\b/i, 'local'],
];

/**
 * A readable env slug for a server: a well-known word in its description ('production', 'sandbox', …), else
 * the first label of its host ('api' for api.stripe.com; 'www' is skipped), else 'default' (relative or
 * templated hosts).
 */
export function envSlug(url: string, description?: string): string {
  for (const [re, slug] of ENV_WORDS) if (description && re.test(description)) return slug;
  const host = /^[a-z][a-z0-9+.-]*:\/\/([^/:?#]+)/i.exec(url)?.[1];
  if (!host || host.includes('{')) return 'default';
  if (/^(localhost|127\.|\[::1\])/.test(host)) return 'local';
  if (/^[\d.]+$/.test(host)) return 'default';
  const labels = host.toLowerCase().split('.');
  for (const [re, slug] of ENV_WORDS) if (labels.slice(0, -2).some((l) => re.test(l))) return slug;
  const label = labels[0] === 'www' && labels.length > 2 ? labels[1] : labels[0];
  return label.replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'default';
}

// Postman {{variables}}: collection values, references found in requests, and $Variable{…} placeholders.
import type { VariableDef } from '../../model/app.js';
import { isSensitiveName } from '../../model/redact.js';

type Obj = Record<string, unknown>;

const REFERENCE = /\{\{([^{}]+)\}\}/g;
const SECRET_NAME = /secret|password|passwd|token|private.?key|api.?key|credential/i;

/** A name whose value is a credential: `api_key`, `access_token`, `clientSecret`, `password`… */
export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name) || isSensitiveName(name);
}

// Narrower than SECRET_NAME (variable names): request fields named `max_tokens`, `token_type` or `pageToken` hold
// no credential, and their example values are kept.
const CREDENTIAL_FIELD = /(^|_)(password|passwd|secret|api_?key|token|private_?key|credentials?)$/;
const NOT_CREDENTIAL_FIELD = /(^|_)(page|next|prev|continuation|sync|cursor)_?token$/;

/** A query parameter or body field whose literal value is a credential: `api_key`, `client_secret`, `accessToken`… */
export function isCredentialField(name: string): boolean {
  const snake = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase();
  return isSensitiveName(name) || (CREDENTIAL_FIELD.test(snake) && !NOT_CREDENTIAL_FIELD.test(snake));
}

export function hasReference(text: string): boolean {
  return text.includes('{{');
}

export interface VariableTable {
  /** Non-empty declared values, for URLs that must be concrete at import time (base URLs, token URLs). */
  values: Map<string, string>;
  /** Records a `{{name}}` reference (dynamic `{{$guid}}`-style ones excepted). */
  use(name: string): void;
  /** `Bearer {{token}}` → `Bearer $Variable{token}`; undefined when a Postman dynamic variable is involved. */
  toPlaceholders(text: string): string | undefined;
  /**
   * `{{authServer}}/oauth/token` → the declared values filled in; a reference without a value stays as written. Auth
   * settings are read by no placeholder resolver, so a `$Variable{…}` there would be sent as text.
   */
  substitute(text: string): string;
  /** App variables: declared ones plus undeclared references; `exclude` are consumed elsewhere (env base URLs). */
  defs(exclude: Set<string>, warnings: string[]): Record<string, VariableDef>;
  /** Names of dynamic variables met (`$guid`, `$timestamp`, …), which have no Ductape equivalent. */
  dynamic: Set<string>;
}

export function createVariableTable(declared: unknown): VariableTable {
  const list = Array.isArray(declared) ? declared.filter((v): v is Obj => !!v && typeof v === 'object' && typeof (v as Obj).key === 'string') : [];
  const values = new Map<string, string>();
  for (const v of list) {
    if (v.disabled !== true && v.value !== undefined && v.value !== null && String(v.value) !== '') values.set(v.key as string, String(v.value));
  }
  const used = new Set<string>();
  const dynamic = new Set<string>();
  const use = (name: string) => {
    if (name.startsWith('$')) dynamic.add(name);
    else used.add(name);
  };

  return {
    values,
    use,
    dynamic,
    toPlaceholders(text) {
      let hasDynamic = false;
      const out = text.replace(REFERENCE, (_, name: string) => {
        const key = name.trim();
        use(key);
        if (key.startsWith('$')) hasDynamic = true;
        return `$Variable{${key}}`;
      });
      return hasDynamic ? undefined : out;
    },
    substitute(text) {
      return text.replace(REFERENCE, (ref, name: string) => values.get(name.trim()) ?? ref);
    },
    defs(exclude, warnings) {
      const out: Record<string, VariableDef> = {};
      const withheld: string[] = [];
      for (const v of list) {
        const key = v.key as string;
        if (exclude.has(key) && !used.has(key)) continue;
        const def: VariableDef = {};
        const type = typeof v.type === 'string' ? v.type : undefined;
        if (type === 'string' || type === 'number' || type === 'boolean') def.type = type;
        const value = values.get(key);
        // A collection shared with its secrets filled in must not leak them into app definitions.
        if (value !== undefined && (type === 'secret' || looksSecret(key))) withheld.push(key);
        else if (value !== undefined) def.default = type === 'number' && Number.isFinite(Number(value)) ? Number(value) : type === 'boolean' ? value === 'true' : value;
        const description = describe(v.description);
        if (description) def.description = description;
        out[key] = def;
      }
      for (const key of used) {
        out[key] ??= { description: 'Referenced by the collection but not declared in it; set it as a connection variable.' };
      }
      if (withheld.length) {
        warnings.push(`Collection variable(s) ${withheld.map((k) => `"${k}"`).join(', ')} look secret; their values are not imported. Set them as connection variables or secrets.`);
      }
      return out;
    },
  };
}

/** Postman descriptions are strings or `{ content, type }`. */
export function describe(value: unknown): string | undefined {
  const text = typeof value === 'string' ? value : value && typeof value === 'object' ? (value as Obj).content : undefined;
  return typeof text === 'string' && text.trim() ? text : undefined;
}

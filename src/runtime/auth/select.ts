// Security requirement selection: which declared requirement (an OR of ANDs) the configured credentials satisfy.
import { ConfigError } from '../../errors.js';
import type { ActionDef, SecurityRequirement } from '../../model/action.js';
import type { AppDef, AuthSchemeDef } from '../../model/app.js';
import { formType, isOpaque, type AuthForm } from './forms.js';

/** One credential form matched to the scheme it satisfies (none for opaque forms and undeclared security). */
export interface Assignment {
  form: AuthForm;
  schemeName?: string;
  scheme?: AuthSchemeDef;
  /** Scopes the requirement asks of that scheme. */
  scopes: string[];
}

export interface Selection {
  /** The chosen requirement's scheme names; null when the app declares none; [] for `security: []` or `{}`. */
  requirement: string[] | null;
  assignments: Assignment[];
}

/** The requirements that govern an action: its own, else the app's default; undefined when neither declares any. */
export function requirementsFor(app: AppDef, action: ActionDef): SecurityRequirement[] | undefined {
  return action.security ?? app.security;
}

/** Whether a form can stand for a declared scheme (a `scheme` pin overrides the type match). */
export function satisfies(form: AuthForm, name: string, scheme: AuthSchemeDef | undefined): boolean {
  if ('scheme' in form && form.scheme !== undefined) return form.scheme === name;
  if (!scheme) return false;
  const http = (s: string) => scheme.type === 'http' && (scheme.scheme ?? '').toLowerCase() === s;
  switch (formType(form)) {
    case 'bearer':
    case 'oauth2':
      // RFC 6750: an OAuth 2.0 or OpenID Connect access token travels as a bearer token.
      return http('bearer') || scheme.type === 'oauth2' || scheme.type === 'openIdConnect';
    case 'basic':
      return http('basic');
    case 'apiKey': {
      const f = form as Extract<AuthForm, { type: 'apiKey' }>;
      return scheme.type === 'apiKey' && (!f.in || f.in === scheme.in) && (!f.name || f.name.toLowerCase() === (scheme.name ?? '').toLowerCase());
    }
    default:
      return false;
  }
}

/**
 * Picks the requirement to use. `security: []` sends nothing. Otherwise the satisfiable requirement that uses the most
 * configured forms wins (declaration order breaks ties), so `[{a}, {a, b}]` with credentials for a and b sends both.
 * Opaque forms (raw templates, action login) are sent whenever anything is. No credentials at all → nothing is sent
 * and the upstream decides (its 401 becomes AUTH_FAILED).
 */
export function selectRequirement(app: AppDef, action: ActionDef, forms: AuthForm[]): Selection {
  const requirements = requirementsFor(app, action);
  const schemes = app.auth_schemes ?? {};
  if (requirements && requirements.length === 0) return { requirement: [], assignments: [] };
  const opaque: Assignment[] = forms.filter(isOpaque).map((form) => ({ form, scopes: [] }));
  const typed = forms.filter((f) => !isOpaque(f));

  if (!requirements) {
    // Nothing declared for this operation: send every form, taking defaults from a compatible scheme when one exists.
    const assignments = typed.map((form): Assignment => {
      const found = Object.entries(schemes).find(([n, s]) => satisfies(form, n, s));
      return { form, schemeName: found?.[0], scheme: found?.[1], scopes: [] };
    });
    return { requirement: null, assignments: [...assignments, ...opaque] };
  }

  let best: { names: string[]; matched: Assignment[]; score: number } | undefined;
  for (const req of requirements) {
    const names = Object.keys(req);
    const matched = match(names, typed, schemes, req);
    if (!matched) continue;
    // More forms used wins; then exact kinds (an oauth2 form for an oauth2 scheme rather than an http bearer one).
    const score = matched.length * 100 + matched.filter((a) => isExact(a.form, a.scheme)).length;
    if (!best || score > best.score) best = { names, matched, score };
  }
  if (best) return { requirement: best.names, assignments: [...best.matched, ...opaque] };
  if (typed.length === 0) return { requirement: [], assignments: opaque };
  const wanted = requirements.map((r) => `[${Object.keys(r).map((n) => describeScheme(n, schemes[n])).join(' + ') || 'none'}]`).join(' or ');
  const given = typed.map(describeForm).join(', ');
  throw new ConfigError(
    `The credentials configured for app ${app.tag} (${given}) satisfy none of the security requirements of ${action.event}: ${wanted}. ` +
      `Configure matching auth with products.apps.configure, or pin a form to a scheme with { scheme: '<name>' }.`,
    { app: app.tag, event: action.event },
  );
}

/** Whether a form is the scheme's own kind, not just a compatible one (oauth2 ↔ oauth2, bearer ↔ http bearer). */
function isExact(form: AuthForm, scheme: AuthSchemeDef | undefined): boolean {
  if (!scheme) return true; // pinned by name
  const t = formType(form);
  if (t === 'oauth2') return scheme.type === 'oauth2' || scheme.type === 'openIdConnect';
  if (t === 'bearer') return scheme.type === 'http';
  return true;
}

// Each scheme of the AND needs its own form, except that bearer-token schemes share one: `{ Oauth2, Oauth2c }` (two
// OAuth flows, as Google's specs declare) both mean the same `Authorization: Bearer` header, which is sent once.
// Backtracking is fine at these sizes (a handful of schemes).
function match(names: string[], forms: AuthForm[], schemes: Record<string, AuthSchemeDef>, req: SecurityRequirement): Assignment[] | undefined {
  const used = new Set<number>();
  const out: Assignment[] = [];
  const go = (i: number): boolean => {
    if (i === names.length) return true;
    const name = names[i];
    for (let j = 0; j < forms.length; j++) {
      if (used.has(j) || !satisfies(forms[j], name, schemes[name])) continue;
      used.add(j);
      out.push({ form: forms[j], schemeName: name, scheme: schemes[name], scopes: req[name] ?? [] });
      if (go(i + 1)) return true;
      used.delete(j);
      out.pop();
    }
    const shared = isBearerScheme(schemes[name]) ? out.findIndex((a) => isBearerScheme(a.scheme) && satisfies(a.form, name, schemes[name])) : -1;
    if (shared < 0) return false;
    const before = out[shared];
    out[shared] = { ...before, scopes: [...new Set([...before.scopes, ...(req[name] ?? [])])] };
    if (go(i + 1)) return true;
    out[shared] = before;
    return false;
  };
  return go(0) ? out : undefined;
}

function isBearerScheme(s: AuthSchemeDef | undefined): boolean {
  return !!s && ((s.type === 'http' && (s.scheme ?? '').toLowerCase() === 'bearer') || s.type === 'oauth2' || s.type === 'openIdConnect');
}

function describeScheme(name: string, s: AuthSchemeDef | undefined): string {
  if (!s) return `${name} (undeclared)`;
  if (s.type === 'http') return `${name} (http ${s.scheme ?? ''})`;
  if (s.type === 'apiKey') return `${name} (apiKey in ${s.in} "${s.name}")`;
  return `${name} (${s.type})`;
}

function describeForm(f: AuthForm): string {
  const t = formType(f);
  if (t === 'apiKey') {
    const k = f as Extract<AuthForm, { type: 'apiKey' }>;
    return `apiKey${k.in ? ` in ${k.in}` : ''}${k.name ? ` "${k.name}"` : ''}`;
  }
  return t === 'oauth2' ? `oauth2 ${(f as Extract<AuthForm, { type: 'oauth2' }>).grant}` : t;
}

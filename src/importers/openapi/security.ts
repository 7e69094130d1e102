// Security schemes (OpenAPI securitySchemes, Swagger securityDefinitions) and requirements (an OR of ANDs).
import type { SecurityRequirement } from '../../model/action.js';
import type { AuthSchemeDef } from '../../model/app.js';
import { HEADER_NAME } from '../../model/header.js';
import { isObject, type Resolver } from './refs.js';

type Obj = Record<string, unknown>;
type Flow = NonNullable<AuthSchemeDef['flows']>[string];

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

const SWAGGER_FLOWS: Record<string, string> = {
  implicit: 'implicit',
  password: 'password',
  application: 'clientCredentials',
  accessCode: 'authorizationCode',
};

export function readSecuritySchemes(doc: Obj, resolver: Resolver, isSwagger: boolean, warnings: string[]): Record<string, AuthSchemeDef> {
  const raw = (isSwagger ? doc.securityDefinitions : (doc.components as Obj | undefined)?.securitySchemes) ?? {};
  const out: Record<string, AuthSchemeDef> = {};
  if (!isObject(raw)) return out;
  for (const [name, value] of Object.entries(raw)) {
    const scheme = resolver.deref<Obj>(value);
    if (!scheme) continue;
    const def = isSwagger ? fromSwagger(scheme) : fromOpenApi(scheme);
    if (!def) {
      warnings.push(`Security scheme "${name}" has unknown type "${String(scheme.type)}"; it is not imported.`);
      continue;
    }
    // Cookie names are tokens too (RFC 6265).
    if (def.type === 'apiKey' && (def.in === 'header' || def.in === 'cookie') && !HEADER_NAME.test(def.name ?? '')) {
      // A display name where the header name belongs ("RapidAPI.com API Key"): no request can carry it.
      warnings.push(`Security scheme "${name}" names its ${def.in} ${JSON.stringify(def.name)}, which is not a valid ${def.in} name; it is not imported, so configure that credential with a raw header template.`);
      continue;
    }
    if (def.type === 'mutualTLS') {
      warnings.push(`Security scheme "${name}" is mutualTLS: client certificates are not among Ductape's auth forms, so configure TLS outside Ductape.`);
    }
    out[name] = def;
  }
  return out;
}

function fromOpenApi(s: Obj): AuthSchemeDef | undefined {
  const description = typeof s.description === 'string' && s.description ? s.description : undefined;
  switch (s.type) {
    case 'http':
      return clean<AuthSchemeDef>({ type: 'http', scheme: typeof s.scheme === 'string' ? s.scheme.toLowerCase() : undefined, bearerFormat: str(s.bearerFormat), description });
    case 'apiKey':
      return clean<AuthSchemeDef>({ type: 'apiKey', in: s.in as AuthSchemeDef['in'], name: s.name as string, description });
    case 'oauth2':
      return clean<AuthSchemeDef>({ type: 'oauth2', flows: isObject(s.flows) ? readFlows(s.flows) : undefined, description });
    case 'openIdConnect':
      return clean<AuthSchemeDef>({ type: 'openIdConnect', openIdConnectUrl: str(s.openIdConnectUrl), description });
    case 'mutualTLS':
      return clean<AuthSchemeDef>({ type: 'mutualTLS', description });
    default:
      return undefined;
  }
}

function fromSwagger(s: Obj): AuthSchemeDef | undefined {
  const description = typeof s.description === 'string' && s.description ? s.description : undefined;
  switch (s.type) {
    case 'basic':
      return clean<AuthSchemeDef>({ type: 'http', scheme: 'basic', description });
    case 'apiKey':
      return clean<AuthSchemeDef>({ type: 'apiKey', in: s.in as AuthSchemeDef['in'], name: s.name as string, description });
    case 'oauth2': {
      const flow = SWAGGER_FLOWS[String(s.flow)] ?? 'authorizationCode';
      const def = clean<Flow>({ tokenUrl: str(s.tokenUrl), authorizationUrl: str(s.authorizationUrl), scopes: isObject(s.scopes) ? (s.scopes as Record<string, string>) : {} });
      return clean<AuthSchemeDef>({ type: 'oauth2', flows: { [flow]: def }, description });
    }
    default:
      return undefined;
  }
}

function readFlows(flows: Obj): NonNullable<AuthSchemeDef['flows']> {
  const out: NonNullable<AuthSchemeDef['flows']> = {};
  for (const [name, flow] of Object.entries(flows)) {
    if (!isObject(flow)) continue;
    out[name] = clean<Flow>({
      tokenUrl: str(flow.tokenUrl),
      authorizationUrl: str(flow.authorizationUrl),
      refreshUrl: str(flow.refreshUrl),
      scopes: isObject(flow.scopes) ? (flow.scopes as Record<string, string>) : {},
    });
  }
  return out;
}

/** A security list as data: each entry maps scheme names to scopes; `[]` means "no credentials". */
export function readRequirements(value: unknown, known: Record<string, AuthSchemeDef>, unknown: Set<string>): SecurityRequirement[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter(isObject).map((req) => {
    const out: SecurityRequirement = {};
    for (const [name, scopes] of Object.entries(req)) {
      if (!known[name]) unknown.add(name);
      out[name] = Array.isArray(scopes) ? scopes.map(String) : [];
    }
    return out;
  });
}

/** Removes undefined fields so stored definitions compare equal after a JSON round trip. */
export function clean<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

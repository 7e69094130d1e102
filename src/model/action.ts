// Plain data describing one operation of an app (an "action"): how to build, validate and send its request.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | 'TRACE';
export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'];

/** A JSON Schema (draft 2020-12 / OpenAPI 3.1 dialect after import normalization). */
export type JsonSchema = Record<string, unknown> | boolean;

export type ParamLocation = 'path' | 'query' | 'header' | 'cookie';

/** OpenAPI 3 parameter serialization styles (OAS 3.1 §4.8.12.4). Swagger 2 collectionFormats map onto these. */
export type ParamStyle =
  | 'simple'
  | 'label'
  | 'matrix'
  | 'form'
  | 'spaceDelimited'
  | 'pipeDelimited'
  | 'deepObject'
  // Swagger 2.0 `collectionFormat: tsv` has no OAS 3 equivalent.
  | 'tabDelimited';

export interface ParamDef {
  name: string;
  in: ParamLocation;
  required?: boolean;
  schema?: JsonSchema;
  /** Default per location: path/header → simple, query/cookie → form. */
  style?: ParamStyle;
  /** Default: true for form, false otherwise. */
  explode?: boolean;
  allowReserved?: boolean;
  /** `content`-encoded parameter: the media type its value is serialized as (e.g. application/json). */
  contentType?: string;
  description?: string;
  deprecated?: boolean;
  /**
   * Value sent when the caller gives none (it may hold placeholders). Postman requests carry the values to send
   * (`Accept: application/json`, `key={{apiKey}}` → `$Variable{apiKey}`); OpenAPI `default`s are not sent, since
   * they describe what the server assumes when the parameter is absent.
   */
  value?: unknown;
}

/** Per-property encoding of form and multipart bodies (OpenAPI Encoding Object). */
export interface EncodingDef {
  contentType?: string;
  style?: ParamStyle;
  explode?: boolean;
  allowReserved?: boolean;
  headers?: Record<string, JsonSchema>;
}

export interface MediaDef {
  schema?: JsonSchema;
  encoding?: Record<string, EncodingDef>;
  example?: unknown;
}

export interface BodyDef {
  required?: boolean;
  /** media type → definition, e.g. { 'application/json': {...}, 'application/x-www-form-urlencoded': {...} } */
  media: Record<string, MediaDef>;
  /** The media type used when the caller does not choose one with input.headers['content-type']. */
  default: string;
}

/** One security requirement: scheme name → scopes. A list of them is an OR of ANDs. */
export type SecurityRequirement = Record<string, string[]>;

export interface ActionDef {
  event: string;
  method: HttpMethod;
  /** Path template with `{name}` placeholders, relative to the server base URL. */
  path: string;
  /** Operation-level server URL (absolute or relative), used unless a connection overrides the base URL. */
  server?: string;
  /** Literal query values that came from the spec's path key (`/search?type=full`). */
  fixedQuery?: Record<string, string>;
  parameters: ParamDef[];
  body?: BodyDef;
  /** status ('200', '4XX', 'default') → media type → schema. */
  responses?: Record<string, Record<string, JsonSchema | null>>;
  /** undefined → the app's default security; [] → no credentials are sent. */
  security?: SecurityRequirement[];
  summary?: string;
  description?: string;
  deprecated?: boolean;
  /** Grouping (Postman folders, OpenAPI tags). */
  group?: string[];
  /** Whether the method may change state even though it is GET-like (forces POST-style retry rules). */
  unsafe?: boolean;
  /** How actions.paginate walks this action's list (docs/pagination.md). */
  pagination?: import('./pagination.js').PaginationDef;
  /** Per-action default per-attempt timeout. */
  timeoutMs?: number;
  /**
   * Send query and path keys the action does not declare instead of refusing them (see runtime/guards.ts).
   * Kept across re-imports. @default false
   */
  allow_unknown_params?: boolean;
  /** Where the action came from, for re-import matching: `openapi:POST /v1/customers`, `postman:<item id or path>`. */
  source?: string;
  /** Saved example responses (Postman) or response examples. */
  examples?: { name?: string; status?: number; body?: unknown; headers?: Record<string, string> }[];
}

// Public exports only: the client (default and named), the error family, and the public types.
import { Ductape } from './client.js';

export { Ductape };
export default Ductape;
export type { RunEnvelope } from './client.js';
export { DuctapeError, NotFoundError, InvalidInputError, ConfigError } from './errors.js';
export type { ErrorCode, Issue } from './errors.js';
export type { DuctapeOptions } from './options.js';
export type { IActionProcessorInput, IActionRequest, ISession } from './runtime/context.js';
export type { ActionDef, ParamDef, BodyDef, MediaDef, JsonSchema } from './model/action.js';
export type { AppDef, AppEnv, ProductDef, ConnectionConfig } from './model/app.js';
export type { LogQuery, RunLogRow } from './store/store.js';
export type { ImportArgs, ImportReport } from './workspace/import.js';
export type { SessionType, SessionTypeInput } from './sessions/session-types.js';
export type { StartedSession, VerifyResult, ActiveSession } from './sessions/sessions.js';
export type { AuthConfig, AuthForm } from './runtime/auth/forms.js';
export type { SetSecretArgs, SecretInfo } from './workspace/secrets.js';
export type { AuthorizeResult, CompletedConnection, ConnectionView, RevokeResult } from './connections/index.js';
export type { KeyInfo, KeyRole, CreateKeyArgs } from './workspace/keys.js';
export type { PaginateInput } from './runtime/paginate.js';
export type { PaginationDef } from './model/pagination.js';
export type { RateLimitDef, RateLimitWindowDef } from './model/rate-limit.js';
export type { ActionRegistry, TypedRunInput, ActionOutput, RunFunction, ExecuteFunction } from './types/registry.js';
export type { GenerateTypesArgs, GenerateTypesResult } from './types/generate.js';
export type { ActionDescription, DescribedParam } from './workspace/describe.js';

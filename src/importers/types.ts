// Types shared by the importers: what an import produces, and the options it takes.
import type { ActionDef, JsonSchema, SecurityRequirement } from '../model/action.js';
import type { AppEnv, AuthSchemeDef, VariableDef } from '../model/app.js';
import type { SpecFormat } from './detect.js';

export interface ImportInput {
  /** Path of a JSON or YAML file; `$ref`s to files next to it are followed. */
  file?: string;
  /** The document itself: JSON/YAML text or a parsed object. Relative file `$ref`s resolve against the cwd. */
  spec?: string | object;
}

export interface ImportOptions {
  /**
   * Largest accepted input in bytes (files are checked before reading; objects are not measured).
   * @default 52_428_800 (50 MiB)
   */
  maxBytes?: number;
  /**
   * Folder that file `$ref`s may read from. What a `$ref` names is read and stored in the app, so by default only files
   * under the spec's own folder are (a spec given as text or an object allows none). @default the spec's folder
   * @example { refsRoot: './specs' } // ../shared/pet.yaml from ./specs/stripe/openapi.yaml is allowed
   */
  refsRoot?: string;
  /** Called as operations are converted (a few hundred times at most), for progress bars. */
  onProgress?: (done: number, total: number) => void;
}

export interface ImportedApp {
  format: SpecFormat;
  name: string;
  description?: string;
  envs: AppEnv[];
  auth_schemes: Record<string, AuthSchemeDef>;
  /** Default (top-level) security requirement, an OR of ANDs. */
  security?: SecurityRequirement[];
  variables: Record<string, VariableDef>;
  /** OpenAPI server variables with their allowed values (also listed in `variables`). */
  server_variables?: Record<string, { default: string; enum?: string[]; description?: string }>;
  /** A detected Idempotency-Key-style header parameter. */
  idempotency_header?: string;
  /** Shared schemas; action schemas refer to them as `{ $ref: 'components#/schemas/<Name>' }`. */
  components: { schemas: Record<string, JsonSchema> };
  actions: ActionDef[];
  skipped: { operation: string; reason: string }[];
  warnings: string[];
}

export type Progress = (done: number, total: number) => void;

/** Calls onProgress at most ~100 times plus once at the end, so large files do not flood a progress bar. */
export function progressReporter(total: number, onProgress?: Progress): (done: number) => void {
  if (!onProgress) return () => {};
  const step = Math.max(1, Math.ceil(total / 100));
  return (done) => {
    if (done === total || done % step === 0) onProgress(done, total);
  };
}

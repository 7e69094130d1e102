// Compiles an action's JSON Schemas into Ajv validators (once per plan) and turns Ajv errors into issues.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Issue } from '../errors.js';
import type { JsonSchema } from '../model/action.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

type Location = Issue['location'];
export type LocationValidator = (value: unknown, issues: Issue[]) => void;

/**
 * One Ajv pair per app definition: `coercing` for params/query/headers (text on the wire, so '10' is a fine integer
 * and a lone value a fine one-item array), `strict` for bodies. Shared schemas of an imported spec are registered
 * once under the id 'components' so that `components#/schemas/X` refs resolve, cycles included.
 */
export interface AppValidators {
  coercing: Ajv;
  strict: Ajv;
}

export function createAppValidators(components?: Record<string, unknown>): AppValidators {
  const make = (coerce: boolean) => {
    const ajv = new Ajv({
      strict: false,
      allErrors: true,
      coerceTypes: coerce ? 'array' : false,
      validateSchema: false,
      // Specs use formats Ajv does not know (e.g. 'unix-time'); unknown formats are documentation, not rules.
      validateFormats: true,
    });
    addFormats(ajv);
    // 'binary' and 'byte' strings carry files and bytes (Buffer, Blob, streams), checked by the encoder instead.
    ajv.addFormat('binary', true);
    ajv.addFormat('byte', true);
    ajv.addKeyword({ keyword: 'discriminator' });
    if (components) ajv.addSchema({ ...components, $id: 'components' });
    return ajv;
  };
  return { coercing: make(true), strict: make(false) };
}

export function compileValidator(ajv: Ajv, schema: JsonSchema, location: Location, where: string): LocationValidator {
  let fn: ValidateFunction;
  try {
    fn = ajv.compile(typeof schema === 'boolean' ? schema : schema);
  } catch (err) {
    // A schema Ajv cannot compile must not block runs: report once through the plan, validate nothing here.
    throw new Error(`cannot compile the ${location} schema of ${where}: ${(err as Error).message}`, { cause: err });
  }
  return (value, issues) => {
    if (!fn(value)) for (const e of fn.errors ?? []) issues.push(toIssue(e, location));
  };
}

function toIssue(e: ErrorObject, location: Location): Issue {
  let path = e.instancePath;
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'required') {
    path += `/${(e.params as { missingProperty: string }).missingProperty}`;
    message = 'is required';
  } else if (e.keyword === 'additionalProperties') {
    path += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
    message = 'is not allowed';
  } else if (e.keyword === 'enum') {
    message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return { location, path, message };
}

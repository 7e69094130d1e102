// Importers: OpenAPI 2.0/3.0/3.1 and Postman v2.1 → an app definition with runnable actions (pure, no store).
import { DEFAULT_MAX_BYTES, loadInput } from './load.js';
import { detectFormat, unwrapCollection } from './detect.js';
import { importOpenApi } from './openapi/index.js';
import { importPostman } from './postman/index.js';
import type { ImportedApp, ImportInput, ImportOptions } from './types.js';

export type { ImportedApp, ImportInput, ImportOptions } from './types.js';
export type { SpecFormat } from './detect.js';
export { planReimport, isDeepEqual, type ReimportPlan } from './reimport.js';
export { COMPONENTS_ID } from './openapi/schema.js';
export { DEFAULT_MAX_BYTES } from './load.js';

/**
 * Reads an API definition and converts it. The format (Swagger 2.0, OpenAPI 3.0/3.1, Postman v2.1) is detected
 * from the document. Malformed input throws a CONFIG_ERROR naming the file and, where known, line and column.
 *
 * @example
 * const app = await importSpec({ file: './stripe.json' }, { onProgress: (done, total) => bar.update(done, { total }) });
 */
export async function importSpec(input: ImportInput, options: ImportOptions = {}): Promise<ImportedApp> {
  const loaded = await loadInput(input, options.maxBytes ?? DEFAULT_MAX_BYTES);
  const { source } = loaded;
  const doc = unwrapCollection(loaded.doc);
  if (options.refsRoot !== undefined) source.refsRoot = options.refsRoot;
  const { format, note } = detectFormat(doc, source);
  const app = format === 'postman-2.1'
    ? importPostman(doc, source, options.onProgress)
    : await importOpenApi(doc, source, format, options.onProgress);
  if (note) app.warnings.unshift(note);
  return app;
}

// Detects which kind of API definition a parsed document is, and rejects versions we cannot read.
import { findPosition, specError, type Source } from './load.js';

export type SpecFormat = 'openapi-2.0' | 'openapi-3.0' | 'openapi-3.1' | 'postman-2.1';

export interface Detected {
  format: SpecFormat;
  /** Set when the document is read with the rules of a nearby version (e.g. OpenAPI 3.2 as 3.1). */
  note?: string;
}

/**
 * The Postman API (`GET /collections/{id}`) answers `{ "collection": { info, item, … } }`, and that answer is the file
 * users save; the collection inside is what Postman's own export would have written.
 */
export function unwrapCollection(doc: Record<string, unknown>): Record<string, unknown> {
  const inner = doc.collection;
  const isWrapper = !('info' in doc) && !('openapi' in doc) && !('swagger' in doc) && !!inner && typeof inner === 'object' && !Array.isArray(inner);
  return isWrapper && 'info' in inner && 'item' in inner ? (inner as Record<string, unknown>) : doc;
}

export function detectFormat(doc: Record<string, unknown>, source: Source): Detected {
  if ('swagger' in doc) {
    if (String(doc.swagger) === '2.0') return { format: 'openapi-2.0' };
    throw specError(source, `unsupported Swagger version "${String(doc.swagger)}" (only 2.0 is supported).`, findPosition(source, 'swagger'));
  }
  if ('openapi' in doc) {
    const version = String(doc.openapi);
    if (/^3\.0(\.\d+)?(-.*)?$/.test(version)) return { format: 'openapi-3.0' };
    if (/^3\.1(\.\d+)?(-.*)?$/.test(version)) return { format: 'openapi-3.1' };
    if (/^3\.2(\.\d+)?(-.*)?$/.test(version)) {
      return { format: 'openapi-3.1', note: `OpenAPI ${version} is read with the 3.1 rules; 3.2-only operations are skipped.` };
    }
    throw specError(
      source,
      `unsupported OpenAPI version "${version}" (supported: 2.0, 3.0.x, 3.1.x).`,
      findPosition(source, 'openapi'),
    );
  }
  const info = doc.info as Record<string, unknown> | undefined;
  if (info && typeof info === 'object' && (Array.isArray(doc.item) || '_postman_id' in info || 'schema' in info)) {
    const schema = typeof info.schema === 'string' ? info.schema : '';
    const version = /collection\/v(\d+(?:\.\d+)*)/.exec(schema)?.[1];
    if (!version || version.startsWith('2.1')) return { format: 'postman-2.1' };
    if (version.startsWith('2.0')) {
      return { format: 'postman-2.1', note: 'Postman collection v2.0 is read with the v2.1 rules.' };
    }
    throw specError(
      source,
      `unsupported Postman collection version v${version} (export it from Postman as Collection v2.1).`,
      findPosition(source, 'schema'),
    );
  }
  throw specError(
    source,
    'not an OpenAPI 3.x, Swagger 2.0 or Postman v2.1 document (no "openapi", "swagger" or Postman "info"/"item").',
  );
}

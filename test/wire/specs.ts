// The vendor specs the conformance suite judges, each with the judge corrections its copy needs (see README.md).
import { join } from 'node:path';
import {
  idRefsAsPointers,
  postmanDropDisabled,
  postmanRawJson,
  postmanVariableSegments,
  refSiblingsAsAllOf,
  responsesAsStatusCodes,
  type SpecCorrection,
} from './judge/spec-copy.js';

export const SPEC_DIR = join(import.meta.dirname, '../fixtures/specs');
/** The Prism preload with the judge's code corrections (deepObject, form and multipart bodies, headers, Postman). */
export const PRISM_PATCH = join(import.meta.dirname, 'judge/prism-patch.cjs');

export interface WireSpec {
  name: string;
  file: string;
  corrections: SpecCorrection[];
}

const POSTMAN = [postmanDropDisabled, postmanVariableSegments, postmanRawJson];

export const WIRE_SPECS: WireSpec[] = [
  { name: 'stripe', file: 'stripe-api-2020-08-27-spec3-2022-04.json', corrections: [responsesAsStatusCodes] },
  { name: 'twilio', file: 'twilio-api-v2010.json', corrections: [] },
  { name: 'nytimes', file: 'nytimes-timeswire-v3-swagger2.yaml', corrections: [] },
  { name: 'petstore-3.0', file: 'swagger-petstore-3.0.yaml', corrections: [] },
  { name: 'petstore-3.1', file: 'swagger-petstore-3.1.yaml', corrections: [idRefsAsPointers, refSiblingsAsAllOf] },
  { name: 'uspto', file: 'uspto-dsapi-3.0.json', corrections: [] },
  { name: 'docusign', file: 'docusign-admin-v2.1.postman_collection.json', corrections: POSTMAN },
  { name: 'google-maps', file: 'google-maps-platform.postman_collection.json', corrections: POSTMAN },
];

import { defineConfig } from 'tsup';

// The library ships as ESM (dist/index.js) and CommonJS (dist/index.cjs), each with its declarations, so that both
// `import Ductape from 'ductape'` and `const { Ductape } = require('ductape')` work. The CLI is ESM only.
export default defineConfig([
  {
    entry: { index: 'src/index.ts', cli: 'src/cli/bin.ts' },
    format: ['esm'],
    dts: { entry: { index: 'src/index.ts' } },
    target: 'node20',
    sourcemap: true,
    clean: true,
    splitting: true,
  },
  {
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    dts: { entry: { index: 'src/index.ts' } },
    target: 'node20',
    sourcemap: true,
    // One self-contained file: CommonJS has no code splitting, and require() must not reach ESM chunks.
    splitting: false,
  },
]);

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: CLI and multi-process tests start real node processes (tsx), slow on a busy 2-core machine.
    testTimeout: 180_000,
    hookTimeout: 240_000,
    pool: 'forks',
  },
});

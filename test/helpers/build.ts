// Builds the package (npx tsup → dist/) when dist is missing or older than src, for tests that use it as users do.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The built files every package test needs; rebuilt once (under a lock directory) when src changed since. */
export function ensureBuilt(): void {
  const outputs = ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts', 'cli.js'].map((f) => join(ROOT, 'dist', f));
  const fresh = () => outputs.every((f) => existsSync(f) && statSync(f).mtimeMs >= newest(join(ROOT, 'src')));
  if (fresh()) return;
  const lock = join(ROOT, 'dist.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      execFileSync('sleep', ['1']);
    }
  }
  try {
    if (!fresh()) execFileSync(process.execPath, [join(ROOT, 'node_modules/tsup/dist/cli-default.js'), '--silent'], { cwd: ROOT, stdio: 'ignore', timeout: 600_000 });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

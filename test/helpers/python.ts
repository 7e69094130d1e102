// Runs examples/python/seed_examples.py (python3, standard library only) against a serve URL; bounded in time.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../examples/python/seed_examples.py', import.meta.url));
export const hasPython = spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;

export function runSeedExamples(url: string, key: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [SCRIPT], { env: { ...process.env, DUCTAPE_URL: url, DUCTAPE_KEY: key }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
}

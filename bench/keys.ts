// What the scrypt work factor costs (#11): once per client open, and per guess for anyone holding a copy of the store.
import { createWorkspaceKey, KDF_DEFAULTS, openWorkspaceKey } from '../src/model/keys.js';
import { median, report } from './lib.js';

export async function benchKeys(): Promise<void> {
  const { keyCheck } = await createWorkspaceKey('bench-private-key', 'bench');
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 7; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    // A wrong key: exactly what one offline guess costs.
    await openWorkspaceKey(`wrong-guess-${i}`, 'bench', keyCheck);
    wall.push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
  }
  report('key_derivation_ms', median(wall), 'ms');
  report('key_derivation_cpu_ms', median(cpu), 'ms');
  // Guesses per second one core can test against a stolen store (was ~40,000 with HKDF alone).
  report('key_guesses_per_core_s', 1000 / median(cpu), '/s');
  report('key_derivation_mem_mib', (128 * KDF_DEFAULTS.N * KDF_DEFAULTS.r) / 2 ** 20, 'MiB');
}

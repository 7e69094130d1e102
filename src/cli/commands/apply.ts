// `ductape apply [file]`: makes the workspace match ductape.yaml; `--dry-run` prints the planned changes only.
import type { Command } from 'commander';
import { withClient } from '../context.js';

export function registerApply(program: Command): void {
  program
    .command('apply [file]')
    .description('Make the workspace match a ductape.yaml (secrets come from the environment as $Env{NAME})')
    .option('--dry-run', 'print the planned changes and write nothing')
    .action(function (this: Command, file: string | undefined) {
      const o = this.opts<{ dryRun?: boolean }>();
      return withClient(this, async (d, out) => {
        const r = await d.apply({ file: file ?? 'ductape.yaml', dry_run: o.dryRun === true });
        out.print(r, (x) => {
          // Not "the workspace matches the file": what the file no longer mentions is still there (apply never deletes).
          if (!x.changes.length) return 'No changes: the workspace has everything the file declares (apply deletes nothing the file leaves out).';
          const lines = x.changes.map((c: { action: string; kind: string; target: string; detail?: string }) => `  ${c.action} ${c.kind} ${c.target}${c.detail ? ` (${c.detail})` : ''}`);
          return `${x.dry_run ? 'Would apply' : 'Applied'} ${x.changes.length} change(s):\n${lines.join('\n')}`;
        });
      });
    });
}

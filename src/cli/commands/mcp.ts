// `ductape mcp`: a product env's actions as MCP tools on stdio (API.md §10, docs/mcp.md).
import type { Command } from 'commander';
import { withClient } from '../context.js';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('Serve the actions of a product env as Model Context Protocol tools on stdio (docs/mcp.md)')
    .requiredOption('--product <tag>', 'product tag')
    .requiredOption('--env <slug>', 'product env')
    .option('--apps <list>', 'access tags to offer, comma-separated (default: every connected app)', list)
    .option('--events <list>', 'events to offer, comma-separated (default: every action)', list)
    .option('--mode <mode>', 'tools: one tool per action; search: search_actions, describe_action, run_action', 'tools')
    .option('--max-result-bytes <n>', 'cut results longer than this, with a note (default 100000)', (v) => Number(v))
    .action(function (this: Command) {
      const o = this.opts<{ product: string; env: string; apps?: string[]; events?: string[]; mode: 'tools' | 'search'; maxResultBytes?: number }>();
      return withClient(this, async (d) => {
        // Loaded here, not at start-up: every other command would otherwise pay for the MCP SDK.
        const { serveStdio } = await import('@modelcontextprotocol/server/stdio');
        const { createMcpServer, createMcpTools } = await import('../../mcp/server.js');
        const tools = createMcpTools(d, { product: o.product, env: o.env, apps: o.apps, events: o.events, mode: o.mode, max_result_bytes: o.maxResultBytes });
        const count = await tools.ready();
        // stdout carries the protocol; anything for people goes to stderr.
        process.stderr.write(`ductape mcp: ${count} actions of ${o.product}/${o.env} in ${o.mode} mode on stdio\n`);
        await new Promise<void>((resolve) => {
          const handle = serveStdio(() => createMcpServer(tools), { onerror: (err) => process.stderr.write(`ductape mcp: ${err.message}\n`) });
          // The client closing stdin ends the session (MCP stdio binding); the client is then closed by withClient.
          process.stdin.once('close', () => void handle.close().finally(resolve));
          process.stdin.once('end', () => void handle.close().finally(resolve));
        });
      });
    });
}

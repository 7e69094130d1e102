// Bench upstream, run in its own process so that its CPU does not count against the client being measured.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = JSON.stringify({ id: 'item_1', ok: true, tags: ['a', 'b'] });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
// 'cpu' asks for this process's CPU time so far (µs), so the bench can charge each side its upstream work too.
process.on('message', (m) => {
  if (m === 'stop') server.close(() => process.exit(0));
  else if (m === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuUs: user + system });
  }
});

// Loopback ports for tests: one a server that cannot listen on port 0 can take, and one where connections are refused.
import { connect, createServer } from 'node:net';

/**
 * A port nothing listened on a moment ago (the OS picks one, then it is released), for servers that cannot be asked
 * for port 0 (redis-server, postgres). Another listener of the suite can take it before they bind: their helpers
 * check that the server answering is theirs, and start again on another port.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A loopback port where connections are refused and stay refused, for "the server is down" tests: one below 1024,
 * where the OS never hands out ports for port 0, so no listener of the suite lands there while the test runs (a port
 * merely found free could be taken by one). Checked by connecting; the first refused one from port 1 up.
 */
export async function refusedPort(): Promise<number> {
  for (let port = 1; port < 1024; port++) {
    if ((await connectOutcome(port)) === 'refused') return port;
  }
  throw new Error('every loopback port below 1024 accepts connections or does not answer');
}

function connectOutcome(port: number): Promise<'refused' | 'other'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1000, () => (socket.destroy(), resolve('other')));
    socket.once('connect', () => (socket.destroy(), resolve('other')));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'refused' : 'other'));
  });
}

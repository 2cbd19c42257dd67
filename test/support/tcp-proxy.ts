// A TCP proxy in front of the test PostgreSQL that can stop delivering: connections stay open and every byte
// is acknowledged (by this machine's kernel), but nothing reaches the other side any more, as on a network
// that broke without closing anything. Keepalive probes cannot see that; only the gate's own timeouts can.
import { connect, createServer, type Socket } from 'node:net';
import { closedWithTest } from './teardown.js';

export interface StallingProxy {
  /** `url` with the proxy's port. */
  url: string;
  /** From now on, nothing is delivered in either direction. */
  stall(): void;
  close(): Promise<void>;
}

/** A stalling proxy in front of `url`; closed when the test that started it finishes, or by close(). */
export async function startStallingProxy(url: string): Promise<StallingProxy> {
  const target = new URL(url);
  const sockets = new Set<Socket>();
  let stalled = false;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (data) => void (stalled || upstream.write(data)));
    upstream.on('data', (data) => void (stalled || client.write(data)));
    // A broken network does not pass a close on either.
    client.on('end', () => void (stalled || upstream.end()));
    upstream.on('end', () => void (stalled || client.end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const through = new URL(url);
  through.port = String((server.address() as { port: number }).port);
  return {
    url: through.toString(),
    stall: () => {
      stalled = true;
    },
    close: closedWithTest(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    ),
  };
}

// A Docker Engine stand-in on a unix socket, speaking the API paths `watch` uses with the Engine's shapes:
// GET /containers/json, GET /containers/:id/json, POST /containers/:id/stop, and GET /events (a chunked
// stream of newline-delimited JSON). It can "restart": drop every connection and listen again later.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedWithTest } from './teardown.js';

export interface FakeContainer {
  id: string;
  name: string;
  labels?: Record<string, string>;
  env: Record<string, string>;
  running: boolean;
}

export interface FakeDocker {
  socket: string;
  containers: Map<string, FakeContainer>;
  stops: string[];
  /** Starts a container, as a restart policy or `docker start` would, and emits its `start` event. */
  start(container: Omit<FakeContainer, 'running'>): void;
  /** The next `count` requests of that kind fail with a 500, as a busy or broken Engine answers. */
  failNext(kind: 'list' | 'stop', count?: number): void;
  /** Event streams open right now. */
  openStreams(): number;
  /** Drops every connection, stays away `downMs`, and comes back with the containers as they are. */
  restart(downMs: number, whileDown?: () => void): Promise<void>;
  close(): Promise<void>;
}

/** A fake Docker Engine on a socket of its own; closed when the test that started it finishes, or by close(). */
export async function startFakeDocker(): Promise<FakeDocker> {
  const dir = mkdtempSync(join(tmpdir(), 'smg-docker-'));
  const socket = join(dir, 'docker.sock');
  const containers = new Map<string, FakeContainer>();
  const stops: string[] = [];
  const streams = new Set<ServerResponse>();
  const failing = { list: 0, stop: 0 };
  let server: Server;

  const json = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'api-version': '1.41' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const envList = (c: FakeContainer) => Object.entries(c.env).map(([k, v]) => `${k}=${v}`);

  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((req, res) => {
        const path = (req.url ?? '').replace(/^\/v\d+\.\d+/, '').split('?')[0];
        if (req.method === 'GET' && path === '/containers/json') {
          if (failing.list > 0 && failing.list--) return json(res, 500, { message: 'listing failed' });
          return json(
            res,
            200,
            [...containers.values()].filter((c) => c.running).map((c) => ({ Id: c.id, Names: [`/${c.name}`], Labels: c.labels ?? {}, State: 'running' })),
          );
        }
        const inspect = /^\/containers\/([^/]+)\/json$/.exec(path);
        if (req.method === 'GET' && inspect) {
          const c = containers.get(inspect[1]);
          if (!c) return json(res, 404, { message: `No such container: ${inspect[1]}` });
          return json(res, 200, { Id: c.id, Name: `/${c.name}`, Config: { Env: envList(c), Labels: c.labels ?? {} }, State: { Running: c.running } });
        }
        const stop = /^\/containers\/([^/]+)\/stop$/.exec(path);
        if (req.method === 'POST' && stop) {
          const c = containers.get(stop[1]);
          if (!c) return json(res, 404, { message: `No such container: ${stop[1]}` });
          if (failing.stop > 0 && failing.stop--) return json(res, 500, { message: 'cannot stop container: device busy' });
          stops.push(c.name);
          c.running = false;
          return json(res, 204);
        }
        if (req.method === 'GET' && path === '/events') {
          res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
          res.flushHeaders();
          streams.add(res);
          res.on('close', () => streams.delete(res));
          return;
        }
        json(res, 404, { message: 'page not found' });
      });
      server.listen(socket, resolve);
    });

  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of streams) s.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });

  await listen();
  return {
    socket,
    containers,
    stops,
    start(container) {
      const c = { ...container, running: true };
      containers.set(c.id, c);
      const event = {
        status: 'start',
        id: c.id,
        from: 'image',
        Type: 'container',
        Action: 'start',
        Actor: { ID: c.id, Attributes: { name: c.name, ...(c.labels ?? {}) } },
        time: Math.floor(Date.now() / 1000),
      };
      // Split across two chunks, as the Engine's stream may be.
      const line = `${JSON.stringify(event)}\n`;
      for (const s of streams) {
        s.write(line.slice(0, 20));
        s.write(line.slice(20));
      }
    },
    failNext(kind, count = 1) {
      failing[kind] = count;
    },
    openStreams: () => streams.size,
    async restart(downMs, whileDown) {
      await close();
      whileDown?.();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await listen();
    },
    close: closedWithTest(async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    }),
  };
}

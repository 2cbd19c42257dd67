import type Dockerode from 'dockerode';
import type { GateSettings } from '../config/env.js';

export type Docker = Dockerode;

/** A container as the watcher sees it: enough to decide whether it is protected and what it starts with. */
export interface ContainerInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  env: Record<string, string>;
}

export const PROTECT_LABEL = 'stripe-mode-gate.protect';
const COMPOSE_SERVICE = 'com.docker.compose.service';
const COMPOSE_PROJECT = 'com.docker.compose.project';

/** dockerode is loaded only by `watch`: loading it costs the other commands ~180 ms. */
export async function dockerClient(where: GateSettings['docker']): Promise<Docker> {
  const { default: Dockerode } = await import('dockerode');
  return new Dockerode('socketPath' in where ? { socketPath: where.socketPath } : { host: where.host, port: where.port, protocol: 'http' });
}

/**
 * Protected: labelled, or named in STRIPE_GATE_WATCH_CONTAINERS by container name, or by compose service
 * within the watcher's own compose project (`project`; null outside compose: service names then match none),
 * so that another project's `backend` is left alone.
 */
export function isProtected(container: Pick<ContainerInfo, 'name' | 'labels'>, byName: readonly string[], project: string | null): boolean {
  if (container.labels[PROTECT_LABEL] === 'true') return true;
  const service = container.labels[COMPOSE_SERVICE];
  const ours = project !== null && container.labels[COMPOSE_PROJECT] === project;
  return byName.includes(container.name) || (ours && service !== undefined && byName.includes(service));
}

/**
 * The compose project the watcher itself runs in: Docker names a container's host after its id, so the
 * watcher inspects the container of its own hostname. Null when it runs outside Docker or compose.
 */
export async function ownComposeProject(docker: Docker, hostname: string): Promise<string | null> {
  try {
    const self = await docker.getContainer(hostname).inspect();
    return self.Config.Labels?.[COMPOSE_PROJECT] ?? null;
  } catch {
    return null;
  }
}

export async function inspect(docker: Docker, id: string): Promise<ContainerInfo> {
  const info = await docker.getContainer(id).inspect();
  const env = Object.fromEntries(
    (info.Config.Env ?? []).map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  return { id: info.Id, name: info.Name.replace(/^\//, ''), labels: info.Config.Labels ?? {}, env };
}

/** Running containers, with the names and labels needed to tell the protected ones. */
export async function running(docker: Docker): Promise<Pick<ContainerInfo, 'id' | 'name' | 'labels'>[]> {
  const list = await docker.listContainers();
  return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels ?? {} }));
}

export interface StartEvent {
  id: string;
  name: string;
  labels: Record<string, string>;
}

/**
 * Opens the stream of container `start` events and calls `handle` for each; resolves once the stream is open,
 * with `ended`, which settles when the stream ends (the daemon went away, `signal` aborted, or `close`). The
 * Engine sends newline-delimited JSON that may arrive split across chunks.
 */
export async function openStartEvents(
  docker: Docker,
  signal: AbortSignal,
  handle: (event: StartEvent) => void,
): Promise<{ ended: Promise<void>; close: () => void }> {
  const stream = (await docker.getEvents({ filters: { type: ['container'], event: ['start'] } })) as NodeJS.ReadableStream & { destroy(): void };
  const stop = () => stream.destroy();
  signal.addEventListener('abort', stop, { once: true });
  // A SIGTERM that came while the stream was being opened.
  if (signal.aborted) stop();
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (!line) continue;
      let event: { id?: string; Actor?: { ID: string; Attributes?: Record<string, string> } };
      try {
        event = JSON.parse(line);
      } catch {
        continue; // not an event: the next `start` (or the rescan after a reconnect) still comes
      }
      const attributes = event.Actor?.Attributes ?? {};
      handle({ id: event.Actor?.ID ?? event.id ?? '', name: attributes.name ?? '', labels: attributes });
    }
  });
  const ended = new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', stop);
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
  return { ended, close: stop };
}

import { assess } from '../assess.js';
import type { Context } from '../commands/context.js';
import { configForContainer } from '../config/env.js';
import { withClient } from '../db/connect.js';
import { withTransaction } from '../db/transaction.js';
import type { Decision } from '../decision.js';
import { ExitCode, GateError } from '../errors.js';
import { explain } from '../report.js';
import { dockerClient, inspect, isProtected, openStartEvents, running, type ContainerInfo, type Docker } from './engine.js';

/** What the sidecar lets run; recorded and updated are left for the init gate to write. */
const MAY_RUN: readonly Decision[] = ['match', 'skipped', 'recorded', 'updated'];
const BACKOFF = { firstMs: 1000, maxMs: 30_000 };

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/**
 * Decides for one protected container as `check` would, with its own Stripe configuration and the watcher's
 * database, changing no data; stops it unless it may run. A database that cannot be asked stops nothing.
 */
async function judge(docker: Docker, ctx: Context, container: ContainerInfo): Promise<void> {
  const { log } = ctx;
  let config;
  try {
    config = configForContainer(ctx.config, container.env);
  } catch (error) {
    await stop(docker, ctx, container, 'invalid configuration', (error as Error).message);
    return;
  }
  // The container's own keys are Stripe-shaped, so the watcher's scrubbing of that shape covers them.
  const containerLog = log.child({ container: container.name, stripeMode: config.stripe?.mode ?? 'none' });
  try {
    const a = await withClient(config.database, config.gate.dbWaitSeconds, containerLog, (client) =>
      withTransaction(client, () => assess(client, config, containerLog, 'when-needed'), { access: 'read only' }),
    );
    const { decision } = a.outcome;
    if (MAY_RUN.includes(decision)) {
      containerLog.info({ decision }, `container ${container.name} may run: ${decision}`);
      return;
    }
    await stop(docker, ctx, container, decision, explain(a));
  } catch (error) {
    // A key Stripe rejects is the container's own configuration error: check would refuse it (78).
    if (error instanceof GateError && error.exitCode === ExitCode.config) {
      await stop(docker, ctx, container, 'invalid configuration', error.message);
      return;
    }
    const reason = error instanceof GateError ? error.message : String(error);
    log.warn({ container: container.name, reason }, `could not decide for container ${container.name}; leaving it running`);
  }
}

async function stop(docker: Docker, ctx: Context, container: ContainerInfo, decision: string, why: string): Promise<void> {
  await docker.getContainer(container.id).stop();
  ctx.log.error(
    { container: container.name, decision },
    `stopped container ${container.name} (${decision}): ${why} Run \`docker compose up\` (the init gate) once this is settled.`,
  );
}

/**
 * The sidecar: judges every protected container at start and on each of its `start` events, and keeps going
 * across Docker daemon restarts (reconnecting with backoff, then judging what started meanwhile).
 * Returns when `signal` aborts.
 */
export async function runWatch(ctx: Context, signal: AbortSignal): Promise<void> {
  const { log, config } = ctx;
  const docker = await dockerClient(config.gate.docker);
  // One container at a time: a burst of starts must not open a burst of database connections.
  let queue = Promise.resolve();
  const enqueue = (id: string) => {
    queue = queue.then(async () => {
      try {
        const container = await inspect(docker, id);
        if (isProtected(container, config.gate.watchContainers)) await judge(docker, ctx, container);
      } catch (error) {
        log.warn({ container: id, reason: (error as Error).message }, 'could not inspect a started container');
      }
    });
  };
  for (let delay = BACKOFF.firstMs; !signal.aborted; delay = Math.min(delay * 2, BACKOFF.maxMs)) {
    try {
      const { ended } = await openStartEvents(docker, signal, (event) => {
        if (isProtected(event, config.gate.watchContainers)) enqueue(event.id);
      });
      log.info({ protect: { label: 'stripe-mode-gate.protect=true', names: config.gate.watchContainers } }, 'watching Docker for container starts');
      delay = BACKOFF.firstMs;
      for (const container of await running(docker)) {
        if (isProtected(container, config.gate.watchContainers)) enqueue(container.id);
      }
      await ended;
      await queue;
      if (signal.aborted) break;
      log.warn('the Docker event stream ended (daemon restart?); reconnecting');
    } catch (error) {
      log.warn({ reason: (error as Error).message, retryInMs: delay }, 'Docker Engine not reachable; retrying');
    }
    await sleep(delay, signal);
  }
  await queue;
}

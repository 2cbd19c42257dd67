import { hostname } from 'node:os';
import { runCheck } from '../core/check.js';
import type { RunContext } from '../context.js';
import { configForContainer, type Config } from '../config/env.js';
import type { Decision } from '../decision.js';
import { withClient } from '../db/connect.js';
import { ConfigurationError, GateError, KeyRejectedError, pause } from '../errors.js';
import { HEALTH_EVERY_MS, writeHealth } from './health.js';
import type { Logger } from '../logging.js';
import { dockerClient, inspect, isProtected, openStartEvents, ownComposeProject, running, type ContainerInfo, type Docker } from './engine.js';

/**
 * What the sidecar lets run. recorded and updated are written to the marker first, exactly as `check` writes
 * them, so that the marker describes every container that runs; nothing else is ever written (no repair), and
 * a switch to another mode, account or SaaS setting is left to the init gate (a stray container with other
 * keys must not move the marker under the running backend).
 */
const MAY_RUN: readonly Decision[] = ['match', 'skipped', 'recorded', 'updated'];
const BACKOFF = { firstMs: 1000, maxMs: 30_000 };
const STOP_TRIES = 3;
/** The health probe of the database: how long it may try to connect, and wait for its answer. */
const PROBE_CONNECT_SECONDS = 5;
const PROBE_ANSWER_MS = 5000;
/** Permission denied on the Docker socket this many times in a row: a setting, not an outage. */
const DENIED_TRIES = 3;

function deniedByDocker(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM' || /\bEACCES\b/.test((error as Error).message ?? '');
}

function socketDenied(config: Config, error: unknown): GateError {
  const where = 'socketPath' in config.gate.docker ? config.gate.docker.socketPath : 'the Docker Engine';
  const uid = process.getuid?.() ?? 'unknown';
  return new ConfigurationError(
    `the watcher (uid ${uid}) may not use ${where} (${(error as Error).message}). The socket belongs to root and the docker group: ` +
      'run the watcher as user "0:0" (as the compose example does), or add the socket\'s group to it (group_add: ["<gid>"], the gid from `stat -c %g /var/run/docker.sock`)',
    { cause: error },
  );
}

/**
 * Every HEALTH_EVERY_MS: asks the database (one probe at a time) and writes what the watcher knows, for
 * `stripe-mode-gate health`; `write` again whenever Docker's state changes.
 */
function reportHealth(config: Config, log: Logger, docker: () => string | null): { write: () => void; stop: () => void } {
  let database: string | null = 'not checked yet';
  const quiet = log.child({}, { level: 'silent' });
  const write = () => {
    try {
      writeHealth(config.gate.healthFile, { docker: docker(), database });
    } catch (error) {
      log.warn({ path: config.gate.healthFile, reason: (error as Error).message }, 'could not write the health file');
    }
  };
  // One probe at a time, each given a few seconds to connect and to answer: a hung server makes the watcher
  // unhealthy for that reason, and piles up no connections.
  const probe = { ...config.database, answerTimeoutMs: PROBE_ANSWER_MS };
  let probing = false;
  const check = async () => {
    if (probing) return;
    probing = true;
    const before = database;
    database = await withClient(probe, PROBE_CONNECT_SECONDS, quiet, (client) => client.query('SELECT 1')).then(
      () => null,
      (error: Error) => error.message,
    );
    probing = false;
    if (database !== before && database) log.warn({ reason: database }, 'the database cannot be reached (health: unhealthy)');
    write();
  };
  write();
  void check();
  const timer = setInterval(() => void check(), HEALTH_EVERY_MS);
  timer.unref();
  return { write, stop: () => clearInterval(timer) };
}

/** Waits `ms`, or less when the watcher is stopped (the loops then see `signal.aborted`). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return pause(ms, signal).catch(() => undefined);
}

/** Settles when `signal` aborts: nothing the watcher waits for may hold its exit past a SIGTERM. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/** The container's own Stripe settings with the watcher's database, deciding as `check` does but never repairing. */
function judgingConfig(base: Config, env: ContainerInfo['env']): Config {
  const config = configForContainer(base, env);
  // The watcher changes no data: no repair, no pruning (STRIPE_GATE_ARCHIVE_DAYS is the init gate's); the
  // webhook checklist is the init gate's too.
  return { ...config, gate: { ...config.gate, onMismatch: 'refuse', onUnknown: 'refuse', recordSwitches: false, archiveDays: null, preflight: 'off' } };
}

/**
 * Decides for one protected container as `check` would, with its own Stripe configuration and the watcher's
 * database; stops it unless it may run. A database that cannot be asked stops nothing.
 */
async function judge(docker: Docker, ctx: RunContext, container: ContainerInfo, signal: AbortSignal): Promise<void> {
  const { log } = ctx;
  let config: Config;
  try {
    config = judgingConfig(ctx.config, container.env);
  } catch (error) {
    await stop(docker, log, container, 'invalid configuration', (error as Error).message, signal);
    return;
  }
  // The container's own keys are Stripe-shaped, so the watcher's scrubbing of that shape covers them.
  const containerLog = log.child({ container: container.name, containerStripeMode: config.stripe?.mode ?? 'none' });
  for (const warning of config.warnings) containerLog.warn(warning);
  try {
    const result = await runCheck({ config, log: containerLog, signal });
    if (MAY_RUN.includes(result.decision)) {
      containerLog.info({ decision: result.decision }, `container ${container.name} may run: ${result.decision}`);
      return;
    }
    await stop(docker, log, container, result.decision, result.message, signal);
  } catch (error) {
    // A key Stripe rejects is the container's own configuration error: check would refuse it (78). What the
    // database refuses (a grant, a read-only server) is the watcher's, and stops nothing.
    if (error instanceof KeyRejectedError) {
      await stop(docker, log, container, 'invalid configuration', error.message, signal);
      return;
    }
    const reason = error instanceof GateError ? error.message : String(error);
    log.warn({ container: container.name, reason }, `could not decide for container ${container.name}; leaving it running`);
  }
}

/** Stops the container, trying again after a failure (the reason logged each time); gone or stopped is done. */
async function stop(docker: Docker, log: Logger, container: ContainerInfo, decision: string, why: string, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await docker.getContainer(container.id).stop();
      break;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 304 || status === 404) break;
      const reason = (error as Error).message;
      if (attempt === STOP_TRIES || signal.aborted) {
        log.error(
          { container: container.name, decision, reason },
          `could NOT stop container ${container.name} (${decision}) after ${attempt} tries: ${why} Stop it by hand.`,
        );
        return;
      }
      log.warn({ container: container.name, attempt, reason }, `could not stop container ${container.name}; trying again`);
      await sleep(500 * attempt, signal);
    }
  }
  log.error(
    { container: container.name, decision },
    `stopped container ${container.name} (${decision}): ${why} Run \`docker compose up\` (the init gate) once this is settled.`,
  );
}

/**
 * The sidecar: judges every protected container at start and on each of its `start` events, and keeps going
 * across Docker daemon restarts (reconnecting with backoff, then judging what started meanwhile).
 * Returns as soon as `signal` aborts.
 */
export async function runWatch(ctx: RunContext, signal: AbortSignal): Promise<void> {
  const { log, config } = ctx;
  const docker = await dockerClient(config.gate.docker);
  const stopped = aborted(signal);
  let project: string | null = null;
  let dockerProblem: string | null = 'connecting';
  const health = reportHealth(config, log, () => dockerProblem);
  const dockerState = (problem: string | null) => {
    dockerProblem = problem;
    health.write();
  };
  // One container at a time: a burst of starts must not open a burst of database connections. A container
  // already waiting for its judgement is not queued again: that judgement reads its newest state.
  const waiting = new Set<string>();
  let queue = Promise.resolve();
  const enqueue = (id: string) => {
    if (waiting.has(id)) return;
    waiting.add(id);
    queue = queue.then(async () => {
      waiting.delete(id);
      if (signal.aborted) return;
      try {
        const container = await inspect(docker, id);
        if (isProtected(container, config.gate.watchContainers, project)) await judge(docker, ctx, container, signal);
      } catch (error) {
        log.warn({ container: id, reason: (error as Error).message }, 'could not inspect a started container');
      }
    });
  };
  let denied = 0;
  try {
    for (let delay = BACKOFF.firstMs; !signal.aborted; delay = Math.min(delay * 2, BACKOFF.maxMs)) {
      let events: Awaited<ReturnType<typeof openStartEvents>> | undefined;
      try {
        events = await openStartEvents(docker, signal, (event) => {
          if (isProtected(event, config.gate.watchContainers, project)) enqueue(event.id);
        });
        denied = 0;
        dockerState(null);
        project = await ownComposeProject(docker, hostname());
        log.info(
          { protect: { label: 'stripe-mode-gate.protect=true', names: config.gate.watchContainers, composeProject: project } },
          'watching Docker for container starts',
        );
        delay = BACKOFF.firstMs;
        for (const container of await running(docker)) {
          if (isProtected(container, config.gate.watchContainers, project)) enqueue(container.id);
        }
        await Promise.race([events.ended.then(() => queue), stopped]);
        if (signal.aborted) break;
        dockerState('the event stream ended; reconnecting');
        log.warn('the Docker event stream ended (daemon restart?); reconnecting');
      } catch (error) {
        // The stream of a half-done connect (listing failed) must not stay open beside the next one.
        events?.close();
        dockerState((error as Error).message);
        denied = deniedByDocker(error) ? denied + 1 : 0;
        if (denied >= DENIED_TRIES) throw socketDenied(config, error);
        log.warn({ reason: (error as Error).message, retryInMs: delay }, 'Docker Engine not reachable; retrying');
      }
      await sleep(delay, signal);
    }
  } finally {
    health.stop();
  }
  // A judgement under way gets what is left of the 2 s a stop may take; the process ending rolls it back.
  await Promise.race([queue, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
}

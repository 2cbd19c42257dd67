import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { runWatch } from '../../src/docker/watch.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startFakeDocker, type FakeDocker } from '../support/fake-docker.js';
import { startFakeStripe } from '../support/fake-stripe.js';
import { gateContext, LIVE_KEYS, TEST_KEYS } from '../support/gate.js';
import { until } from '../support/wait.js';

let db: TestDatabase;
let docker: FakeDocker;
let controller: AbortController;
let watching: Promise<void> | undefined;

beforeEach(async () => {
  db = await freshDatabase('E');
  await runCheck((await gateContext({ DATABASE_URL: db.url, ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' })).ctx);
  docker = await startFakeDocker();
  controller = new AbortController();
});
// Ends the watch; the test's Docker and database close after this, when the test finishes.
afterEach(async () => {
  controller.abort();
  await watching;
});

const PROTECT = { 'stripe-mode-gate.protect': 'true' };
const SERVICE = 'com.docker.compose.service';
const PROJECT = 'com.docker.compose.project';
/** A database no one answers for (nothing listens on port 9). */
const NO_DATABASE = 'postgresql://u:p@127.0.0.1:9/x';

async function watch(env: Record<string, string> = {}) {
  // The watcher has the database; each container brings its own Stripe settings.
  const gate = await gateContext({ DATABASE_URL: db.url, DOCKER_HOST: `unix://${docker.socket}`, ...env });
  watching = runWatch(gate.ctx, controller.signal);
  return gate;
}

describe('watch, the sidecar', () => {
  it('at start, stops a protected container with mismatching keys and leaves the others running', async () => {
    docker.start({ id: 'c1', name: 'hievents-backend-1', labels: PROTECT, env: { ...LIVE_KEYS } });
    docker.start({ id: 'c2', name: 'matching-backend', labels: PROTECT, env: { ...TEST_KEYS } });
    docker.start({ id: 'c3', name: 'unprotected', env: { ...LIVE_KEYS } });
    const before = await db.checksums();
    const gate = await watch();
    await until(() => docker.stops.length > 0, 'a stop');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(docker.stops).toEqual(['hievents-backend-1']);
    expect(docker.containers.get('c2')!.running).toBe(true);
    expect(docker.containers.get('c3')!.running).toBe(true);
    const stopped = gate.logs().find((l) => l.container === 'hievents-backend-1' && l.level === 50)!;
    expect(stopped.decision).toBe('refused-mismatch');
    expect(stopped.msg).toContain('stopped container hievents-backend-1 (refused-mismatch)');
    expect(stopped.msg).toContain('created under test keys');
    expect(await db.checksums()).toEqual(before);
  });

  it("judges every start event of a protected container: by label, by name, or by compose service of the watcher's own project", async () => {
    // Docker names a container's host after its id: this is the watcher's own container, in project hievents.
    docker.containers.set(hostname(), { id: hostname(), name: 'hievents-stripe-mode-gate-watch-1', labels: { [PROJECT]: 'hievents' }, env: {}, running: true });
    const gate = await watch({ STRIPE_GATE_WATCH_CONTAINERS: 'named-backend, backend' });
    await until(() => gate.logs().some((l) => l.msg === 'watching Docker for container starts'), 'the watcher');
    docker.start({ id: 'a', name: 'labelled', labels: PROTECT, env: { ...LIVE_KEYS } });
    docker.start({ id: 'b', name: 'named-backend', env: { ...LIVE_KEYS } });
    docker.start({ id: 'c', name: 'hievents-backend-1', labels: { [SERVICE]: 'backend', [PROJECT]: 'hievents' }, env: { ...LIVE_KEYS } });
    docker.start({ id: 'c2', name: 'shop-backend-1', labels: { [SERVICE]: 'backend', [PROJECT]: 'shop' }, env: { ...LIVE_KEYS } });
    docker.start({ id: 'd', name: 'other', env: { ...LIVE_KEYS } });
    docker.start({ id: 'e', name: 'fine', labels: PROTECT, env: { ...TEST_KEYS } });
    await until(() => docker.stops.length === 3, 'three stops');
    await until(() => gate.logs().some((l) => l.container === 'fine' && l.decision === 'match'), 'the matching one judged');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(docker.stops.sort()).toEqual(['hievents-backend-1', 'labelled', 'named-backend']);
  });

  it('outside compose, a service name matches no container: only names and the label do', async () => {
    const gate = await watch({ STRIPE_GATE_WATCH_CONTAINERS: 'backend' });
    await until(() => gate.logs().some((l) => l.msg === 'watching Docker for container starts'), 'the watcher');
    docker.start({ id: 'c', name: 'hievents-backend-1', labels: { [SERVICE]: 'backend', [PROJECT]: 'hievents' }, env: { ...LIVE_KEYS } });
    docker.start({ id: 'a', name: 'labelled', labels: PROTECT, env: { ...LIVE_KEYS } });
    await until(() => docker.stops.length === 1, 'one stop');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(docker.stops).toEqual(['labelled']);
  });

  it('records a new install as check would, so that the marker describes the container it lets run', async () => {
    await db.query('DROP SCHEMA stripe_mode_gate CASCADE; TRUNCATE stripe_customers, account_stripe_platforms');
    await db.query('UPDATE accounts SET stripe_account_id = NULL, stripe_connect_account_type = NULL, stripe_connect_setup_complete = false');
    const gate = await watch();
    docker.start({ id: 'n', name: 'new-backend', labels: PROTECT, env: { ...TEST_KEYS } });
    await until(() => gate.logs().some((l) => l.container === 'new-backend' && l.decision === 'recorded'), 'the judgement');
    expect(docker.stops).toEqual([]);
    expect(await db.query('SELECT stripe_mode FROM stripe_mode_gate.marker')).toEqual([{ stripe_mode: 'test' }]);
  });

  it("never lets a container switch the marker, even with nothing stranded yet: that is the init gate's to record", async () => {
    await db.query(
      'TRUNCATE stripe_customers, account_stripe_platforms; UPDATE accounts SET stripe_account_id = NULL, stripe_connect_account_type = NULL, stripe_connect_setup_complete = false',
    );
    const gate = await watch();
    docker.start({ id: 'l', name: 'live-backend', labels: PROTECT, env: { ...LIVE_KEYS } });
    await until(() => docker.stops.includes('live-backend'), 'the stop');
    expect(gate.logs().find((l) => l.container === 'live-backend' && l.level === 50)!.msg).toContain('a switch is recorded only by the init gate');
    expect(await db.query('SELECT stripe_mode FROM stripe_mode_gate.marker')).toEqual([{ stripe_mode: 'test' }]);
    // The init gate records it; the container may run from then on.
    expect(await runCheck((await gateContext({ DATABASE_URL: db.url, ...LIVE_KEYS })).ctx)).toMatchObject({ decision: 'updated' });
  });

  it("leaves a container running when the database refuses the write (read-only): not the container's fault", async () => {
    await db.query('DROP SCHEMA stripe_mode_gate CASCADE; TRUNCATE stripe_customers, account_stripe_platforms');
    await db.query('UPDATE accounts SET stripe_account_id = NULL, stripe_connect_account_type = NULL, stripe_connect_setup_complete = false');
    await db.query(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`);
    const gate = await watch();
    docker.start({ id: 'r', name: 'fine-backend', labels: PROTECT, env: { ...TEST_KEYS } });
    await until(() => gate.logs().some((l) => String(l.msg).startsWith('could not decide for container fine-backend')), 'the warning');
    expect(docker.stops).toEqual([]);
  });

  it('judges a container started many times in a burst at most twice', async () => {
    const gate = await watch();
    await until(() => gate.logs().some((l) => l.msg === 'watching Docker for container starts'), 'the watcher');
    for (let i = 0; i < 20; i++) docker.start({ id: 'busy', name: 'flapping-backend', labels: PROTECT, env: { ...TEST_KEYS } });
    await until(() => gate.logs().some((l) => l.container === 'flapping-backend' && l.decision === 'match'), 'a judgement');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const judged = gate.logs().filter((l) => l.container === 'flapping-backend' && l.decision === 'match');
    expect(judged.length).toBeGreaterThanOrEqual(1);
    expect(judged.length).toBeLessThanOrEqual(2);
  });

  it('tries a failed stop again, logging why, until the container is stopped', async () => {
    docker.failNext('stop', 2);
    const gate = await watch();
    docker.start({ id: 'f', name: 'stubborn-backend', labels: PROTECT, env: { ...LIVE_KEYS } });
    await until(() => docker.stops.includes('stubborn-backend'), 'the stop', { ms: 10_000 });
    const retries = gate.logs().filter((l) => String(l.msg).startsWith('could not stop container stubborn-backend; trying again'));
    expect(retries.map((l) => l.attempt)).toEqual([1, 2]);
    expect(retries[0].reason).toContain('device busy');
  });

  it('closes the event stream of a connect whose listing failed before it opens the next', async () => {
    docker.failNext('list', 2);
    const gate = await watch();
    await until(() => gate.logs().filter((l) => String(l.msg).startsWith('Docker Engine not reachable')).length === 2, 'two failed connects', { ms: 10_000 });
    await until(() => gate.logs().some((l) => l.msg === 'watching Docker for container starts') && docker.openStreams() === 1, 'one stream', { ms: 10_000 });
    expect(docker.openStreams()).toBe(1);
  });

  it('exits within 2 s of SIGTERM even while a judgement waits for the database', async () => {
    const gate = await watch({ DATABASE_URL: NO_DATABASE, STRIPE_GATE_DB_WAIT_SECONDS: '60' });
    docker.start({ id: 'w', name: 'waiting-backend', labels: PROTECT, env: { ...LIVE_KEYS } });
    await until(() => gate.logs().some((l) => String(l.msg).includes('database not reachable yet')), 'the database wait');
    const started = Date.now();
    controller.abort();
    await watching;
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('never stops a container it cannot decide for (database away), and stops one with invalid keys', async () => {
    const gate = await watch({ DATABASE_URL: NO_DATABASE, STRIPE_GATE_DB_WAIT_SECONDS: '0' });
    docker.start({ id: 'x', name: 'backend', labels: PROTECT, env: { ...LIVE_KEYS } });
    docker.start({ id: 'y', name: 'typo', labels: PROTECT, env: { STRIPE_SECRET_KEY: 'pk_live_51NotASecretKey' } });
    await until(() => gate.logs().some((l) => String(l.msg).startsWith('could not decide for container backend')), 'the warning');
    await until(() => docker.stops.includes('typo'), 'the typo stopped');
    expect(docker.stops).toEqual(['typo']);
  });

  it('reconnects after the Docker daemon restarts, and judges what started meanwhile', async () => {
    const gate = await watch();
    await until(() => gate.logs().some((l) => l.msg === 'watching Docker for container starts'), 'the watcher');
    await docker.restart(1500, () => {
      // Restart policies bring containers up before the watcher is back.
      docker.containers.set('r', { id: 'r', name: 'restarted-backend', labels: PROTECT, env: { ...LIVE_KEYS }, running: true });
    });
    await until(() => docker.stops.includes('restarted-backend'), 'the restarted container stopped');
    expect(gate.logs().some((l) => String(l.msg).startsWith('the Docker event stream ended'))).toBe(true);
    docker.start({ id: 's', name: 'after-restart', labels: PROTECT, env: { ...LIVE_KEYS } });
    await until(() => docker.stops.includes('after-restart'), 'a start after the restart judged');
  });

  it('with STRIPE_GATE_STRIPE_API=required, stops a container whose key Stripe rejects, as check would refuse it (78)', async () => {
    const stripe = await startFakeStripe({ keys: {} });
    try {
      const gate = await watch({ STRIPE_GATE_STRIPE_API: 'required', STRIPE_GATE_STRIPE_API_URL: stripe.url });
      docker.start({ id: 'k', name: 'revoked-key', labels: PROTECT, env: { STRIPE_SECRET_KEY: 'sk_test_51RevokedKey0000000000' } });
      await until(() => docker.stops.includes('revoked-key'), 'the stop');
      expect(gate.logs().find((l) => l.container === 'revoked-key' && l.level === 50)!.msg).toContain('Stripe rejected this key');
    } finally {
      await stripe.close();
    }
  });

  it("leaves a container running when the watcher's own Stripe API URL is wrong (404): that is not the container's key", async () => {
    const stripe = await startFakeStripe({ keys: { [LIVE_KEYS.STRIPE_SECRET_KEY]: 'acct_1WatchWrongUrl' }, prefix: '/proxied' });
    try {
      const gate = await watch({ STRIPE_GATE_STRIPE_API: 'required', STRIPE_GATE_STRIPE_API_URL: stripe.url });
      docker.start({ id: 'u', name: 'wrong-url', labels: PROTECT, env: { ...LIVE_KEYS } });
      await until(() => gate.logs().some((l) => l.container === 'wrong-url' && String(l.msg).startsWith('could not decide')), 'the judgement');
      expect(gate.logs().find((l) => l.container === 'wrong-url' && String(l.msg).startsWith('could not decide'))!.reason).toContain(
        "STRIPE_GATE_STRIPE_API_URL does not point at Stripe's API",
      );
      expect(docker.stops).toEqual([]);
    } finally {
      await stripe.close();
    }
  });

  it('never prunes, even with STRIPE_GATE_ARCHIVE_DAYS in its environment: the watcher changes no data', async () => {
    // A restored run's archive: what a check with STRIPE_GATE_ARCHIVE_DAYS would prune at once.
    await db.query(`WITH r AS (INSERT INTO stripe_mode_gate.run_log (command, decision, gate_version, restored_by) VALUES ('check', 'cleaned', 'test', 1) RETURNING id)
      INSERT INTO stripe_mode_gate.archive (run_id, table_name, row_id, action, old_row) SELECT id, 'stripe_customers', 1, 'delete', '{}' FROM r`);
    const gate = await watch({ STRIPE_GATE_ARCHIVE_DAYS: '1' });
    docker.start({ id: 'p', name: 'pruner', labels: PROTECT, env: { ...TEST_KEYS } });
    await until(() => gate.logs().some((l) => l.container === 'pruner' && l.decision === 'match'), 'the judgement');
    expect(await db.query('SELECT count(*)::int AS n FROM stripe_mode_gate.archive')).toEqual([{ n: 1 }]);
  });

  it('ends when asked (SIGTERM in the CLI)', async () => {
    await watch();
    controller.abort();
    await expect(watching).resolves.toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';
import { startFakeDocker } from '../support/fake-docker.js';
import { LIVE_KEYS } from '../support/gate.js';
import { judgeHealth } from '../../src/docker/health.js';
import { until } from '../support/wait.js';

describe('stripe-mode-gate watch', () => {
  it('stops a protected container with mismatching keys, and exits 0 on SIGTERM', async () => {
    const db = await freshDatabase('empty');
    const docker = await startFakeDocker();
    // A marker says test keys; the container starts with live keys.
    await db.query(
      'CREATE SCHEMA stripe_mode_gate; CREATE TABLE stripe_mode_gate.marker (singleton boolean PRIMARY KEY DEFAULT true, stripe_mode text NOT NULL, saas_mode boolean NOT NULL, platforms jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), recorded_by text NOT NULL, run_id bigint)',
    );
    await db.query("INSERT INTO stripe_mode_gate.marker (stripe_mode, saas_mode, platforms, recorded_by) VALUES ('test', false, '{}', 'test')");
    await db.query(
      'CREATE TABLE stripe_customers (id bigserial PRIMARY KEY, name varchar NOT NULL, email varchar NOT NULL, stripe_customer_id varchar NOT NULL)',
    );
    await db.query("INSERT INTO stripe_customers (name, email, stripe_customer_id) VALUES ('A', 'a@example.com', 'cus_W1')");
    docker.start({ id: 'b1', name: 'backend', labels: { 'stripe-mode-gate.protect': 'true' }, env: { ...LIVE_KEYS } });

    const { child, done } = startCli(['watch'], { DATABASE_URL: db.url, DOCKER_HOST: `unix://${docker.socket}` });
    await until(() => docker.stops.includes('backend'), 'the stop');
    expect(docker.stops).toEqual(['backend']);
    child.kill('SIGTERM');
    const run = await done;
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('stopped container backend (refused-mismatch)');
    expect(run.stderr).toContain('watch stopped');
  });

  it('exits 0 within 2 s of SIGTERM even while a judgement waits for a database that is away', async () => {
    const docker = await startFakeDocker();
    docker.start({ id: 'b2', name: 'backend', labels: { 'stripe-mode-gate.protect': 'true' }, env: { ...LIVE_KEYS } });
    const { child, done } = startCli(['watch'], {
      DATABASE_URL: 'postgresql://gate:pw-unused-1234@127.0.0.1:9/none',
      STRIPE_GATE_DB_WAIT_SECONDS: '60',
      DOCKER_HOST: `unix://${docker.socket}`,
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    await until(() => stderr.includes('database not reachable yet'), 'the judgement to wait for the database');
    const sent = Date.now();
    child.kill('SIGTERM');
    const run = await done;
    expect(run.code).toBe(0);
    expect(Date.now() - sent).toBeLessThan(2000);
    expect(docker.stops).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'as a user the Docker socket does not admit, exits 78 with the fix after a few tries instead of retrying forever',
    async () => {
      const db = await freshDatabase('empty');
      const docker = await startFakeDocker(); // its socket is root's, in a directory only root may enter
      const run = await runCli(
        ['watch'],
        { DATABASE_URL: db.url, DOCKER_HOST: `unix://${docker.socket}`, STRIPE_GATE_HEALTH_FILE: '/dev/null/none' },
        { uid: 1000, gid: 1000 },
      );
      expect(run.code).toBe(78);
      const final = run.logs.at(-1)!;
      expect(final.msg).toMatch(/^the watcher \(uid 1000\) may not use .*docker\.sock \(.*EACCES/);
      expect(final.msg).toContain('group_add');
      expect(final.msg).toContain('"0:0"');
      expect(run.logs.filter((l) => l.msg === 'Docker Engine not reachable; retrying')).toHaveLength(2);
    },
    30_000,
  );

  it('health reports a watcher that reaches Docker and the database, and one that cannot reach the database', async () => {
    const db = await freshDatabase('empty');
    const docker = await startFakeDocker();
    const dir = mkdtempSync(join(tmpdir(), 'smg-health-'));
    const healthy = join(dir, 'healthy.json');
    const sick = join(dir, 'sick.json');
    try {
      expect(await runCli(['health'], { STRIPE_GATE_HEALTH_FILE: healthy })).toMatchObject({ code: 0, stdout: 'no watcher runs here: nothing to report\n' });
      const good = startCli(['watch'], { DATABASE_URL: db.url, DOCKER_HOST: `unix://${docker.socket}`, STRIPE_GATE_HEALTH_FILE: healthy });
      const bad = startCli(['watch'], {
        DATABASE_URL: 'postgresql://u:p@127.0.0.1:9/db',
        DOCKER_HOST: `unix://${docker.socket}`,
        STRIPE_GATE_HEALTH_FILE: sick,
      });
      await until(() => judgeHealth(healthy)?.healthy === true, 'the watcher healthy');
      expect(await runCli(['health'], { STRIPE_GATE_HEALTH_FILE: healthy })).toMatchObject({
        code: 0,
        stdout: 'healthy: Docker and the database are reachable\n',
      });
      await until(() => judgeHealth(sick)?.why.includes('ECONNREFUSED') === true, 'the other watcher unhealthy');
      const unhealthy = await runCli(['health'], { STRIPE_GATE_HEALTH_FILE: sick });
      expect(unhealthy.code).toBe(1);
      expect(unhealthy.stdout).toMatch(/^unhealthy: database: .*ECONNREFUSED/);
      good.child.kill('SIGTERM');
      bad.child.kill('SIGTERM');
      expect((await good.done).code).toBe(0);
      expect((await bad.done).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

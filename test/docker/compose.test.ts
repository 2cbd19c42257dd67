// The compose example on a real Docker engine: the gate's image built from the Dockerfile, the one-shot gate
// in front of a stand-in backend, and the watch sidecar on the engine's socket.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { BASE_IMAGE, importBaseImage, startDockerEngine, type DockerEngine } from '../support/docker-engine.js';
import { startFakeStripe } from '../support/fake-stripe.js';
import { LIVE_KEYS, secretsUsed, TEST_KEYS } from '../support/gate.js';
import { until } from '../support/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PROJECT = 'smge2e';
/** Containers start and stop in seconds: poll gently, wait long. */
const DOCKER_WAIT = { ms: 20_000, everyMs: 250 };
let engine: DockerEngine;
let db: TestDatabase;

/**
 * compose.example.yml as it is, but for the backend's published port: the private engine has no bridge, so
 * containers share the host's network, where docker-compose 1.29 refuses port bindings (and an override file
 * can only add to a list).
 */
function exampleForHostNetwork(): string {
  const example = readFileSync(join(root, 'compose.example.yml'), 'utf8');
  const adapted = example.replace(/\n {4}ports:\n {6}- "8123:80"/, '');
  expect(adapted).not.toBe(example);
  const file = join(mkdtempSync(join(tmpdir(), 'smg-compose-')), 'compose.example.yml');
  writeFileSync(file, adapted);
  return file;
}

beforeAll(async () => {
  engine = await startDockerEngine();
  importBaseImage(engine, fileURLToPath(new URL('./base-image.sh', import.meta.url)));
  // npm inside the build reaches the registry through the host's network.
  engine.docker(['build', '--network', 'host', '--build-arg', `NODE_IMAGE=${BASE_IMAGE}`, '-t', 'stripe-mode-gate:e2e', '.'], { cwd: root });
  engine.docker(['build', '--build-arg', `NODE_IMAGE=${BASE_IMAGE}`, '-t', 'smg-standin:e2e', 'test/docker/standin'], { cwd: root });
  db = await freshDatabase('E');
  // The database's ids were created with the test keys.
  expect((await runCli(['adopt', '--mode', 'test', '--saas', 'false'], { ...TEST_KEYS, DATABASE_URL: db.url })).code).toBe(0);
}, 300_000);

afterAll(async () => {
  if (engine) compose(['down', '--remove-orphans', '--timeout', '1'], TEST_KEYS);
  if (example) rmSync(dirname(example), { recursive: true, force: true });
  await db?.close();
  await engine?.stop();
});

let example: string;

function composeCommand(args: string[], keys: Record<string, string>, e2e: Record<string, string>) {
  example ??= exampleForHostNetwork();
  const files = ['-f', example, '-f', join(root, 'test/docker/compose.e2e.yml'), '--project-directory', root];
  return {
    argv: ['-p', PROJECT, ...files, ...args],
    options: { cwd: root, env: { ...engine.env, ...keys, E2E_DATABASE_URL: db.url, E2E_DOCKER_SOCKET: engine.socket, ...e2e } },
  };
}

function scanned(code: number | null, output: string) {
  for (const secret of secretsUsed()) expect(output).not.toContain(secret);
  return { code, output };
}

function compose(args: string[], keys: Record<string, string>, e2e: Record<string, string> = {}) {
  const { argv, options } = composeCommand(args, keys, e2e);
  const run = spawnSync('docker-compose', argv, { ...options, encoding: 'utf8' });
  return scanned(run.status, `${run.stdout}${run.stderr}`);
}

/** compose without blocking this process: a server of the test (a Stripe stand-in) must answer meanwhile. */
function composeAsync(args: string[], keys: Record<string, string>, e2e: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const { argv, options } = composeCommand(args, keys, e2e);
  return new Promise((resolve, reject) => {
    const child = spawn('docker-compose', argv, options);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve(scanned(code, output)));
  });
}

const container = (service: string) => engine.service(PROJECT, service);

describe('the compose example on a real Docker engine', () => {
  it('builds a small image from the Dockerfile: non-root, the CLI as entrypoint, check by default, one version', () => {
    const [user, entrypoint, cmd] = engine
      .docker(['image', 'inspect', '-f', '{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}', 'stripe-mode-gate:e2e'])
      .trim()
      .split('|');
    expect(user).toBe('1000:1000');
    expect(JSON.parse(entrypoint)).toEqual(['node', '/app/cli.mjs']);
    expect(JSON.parse(cmd)).toEqual(['check']);
    // One version: package.json's, in the image's OCI label and in --version.
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const labels = JSON.parse(engine.docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', 'stripe-mode-gate:e2e']));
    expect(labels).toMatchObject({ 'org.opencontainers.image.version': version, 'org.opencontainers.image.licenses': 'MIT' });
    expect(engine.docker(['run', '--rm', '--network', 'none', 'stripe-mode-gate:e2e', '--version']).trim()).toBe(version);
    expect(engine.docker(['run', '--rm', '--network', 'none', '--entrypoint', 'sh', 'stripe-mode-gate:e2e', '-c', 'echo /app/*']).trim()).toBe(
      '/app/cli.mjs /app/lazy',
    );
  });

  it("first start with Hi.Events' own example values (sk_test_123456789, which Stripe rejects): the backend starts", async () => {
    const newInstall = await freshDatabase('empty');
    const stripe = await startFakeStripe({ keys: {} });
    // Hi.Events' docker/all-in-one/.env.example, with Stripe asked (the default, auto) and answering 401.
    const shipped = { STRIPE_PUBLIC_KEY: 'pk_test_123456789', STRIPE_SECRET_KEY: 'sk_test_123456789', STRIPE_WEBHOOK_SECRET: 'whsec_test_123456789' };
    const e2e = { E2E_DATABASE_URL: newInstall.url, E2E_STRIPE_API: 'auto', E2E_STRIPE_URL: stripe.url };
    try {
      const up = await composeAsync(['up', '-d', 'all-in-one'], shipped, e2e);
      expect(up.code).toBe(0);
      expect(container('stripe-mode-gate').exitCode).toBe(0);
      expect(container('all-in-one').running).toBe(true);
      const gateLogs = engine.logs(container('stripe-mode-gate').id);
      expect(gateLogs).toContain('STRIPE_SECRET_KEY: Stripe rejected this key (401');
      expect(gateLogs).toContain('payments will fail with this key until it is replaced');
      expect(gateLogs).not.toContain(shipped.STRIPE_SECRET_KEY);
      expect(stripe.requests.map((r) => r.path)).toContain('/v1/account');
      expect(await newInstall.query('SELECT stripe_mode FROM stripe_mode_gate.marker')).toEqual([{ stripe_mode: 'test' }]);
    } finally {
      compose(['down', '--remove-orphans', '--timeout', '1'], shipped, e2e);
      await stripe.close();
      await newInstall.close();
    }
  });

  it("the watcher as the image's own user, without the socket's group, exits 78 with the fix instead of retrying forever", () => {
    const run = spawnSync(
      'docker',
      ['run', '--rm', '--network', 'host', '-v', `${engine.socket}:/var/run/docker.sock`, '-e', `DATABASE_URL=${db.url}`, 'stripe-mode-gate:e2e', 'watch'],
      { env: engine.env, encoding: 'utf8' },
    );
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(/the watcher \(uid 1000\) may not use \/var\/run\/docker\.sock/);
    expect(run.stderr).toContain('group_add');
  });

  it('refuses to start the backend when the keys do not match the database (compose reports exit 65)', () => {
    const up = compose(['up', '-d'], LIVE_KEYS);
    expect(up.code).not.toBe(0);
    // docker-compose 1.29's words; the compose plugin says `service "stripe-mode-gate" didn't complete successfully: exit 65`.
    expect(up.output).toMatch(/(didn't complete successfully: exit 65|Container "\w+" exited with code 65)/);
    expect(container('stripe-mode-gate').exitCode).toBe(65);
    expect(container('all-in-one').running).toBe(false);
    compose(['down', '--remove-orphans', '--timeout', '1'], LIVE_KEYS);
  });

  it('starts the backend when they match, and the watch sidecar then guards Docker restarts', async () => {
    const up = compose(['up', '-d'], TEST_KEYS);
    expect(up.code).toBe(0);
    expect(container('stripe-mode-gate').exitCode).toBe(0);
    const backend = container('all-in-one');
    expect(backend.running).toBe(true);
    const watchLogs = () => engine.logs(container('stripe-mode-gate-watch').id);
    await until(() => /may run: match/.test(watchLogs()), 'the watcher judging the running backend', DOCKER_WAIT);
    // The image's HEALTHCHECK (stripe-mode-gate health) sees the watcher reach Docker and the database.
    const healthOf = (id: string) => engine.docker(['inspect', '-f', '{{.State.Health.Status}}', id]).trim();
    await until(() => healthOf(container('stripe-mode-gate-watch').id) === 'healthy', 'the watcher healthy', DOCKER_WAIT);

    // Docker restarts it (no compose involved) with matching keys: it keeps running.
    engine.docker(['restart', '-t', '1', backend.id]);
    await until(() => (watchLogs().match(/may run: match/g) ?? []).length >= 2, 'the restart judged', DOCKER_WAIT);
    expect(container('all-in-one').running).toBe(true);

    // The database now says live (a production dump restored here): the next Docker restart is stopped.
    await db.query("UPDATE stripe_mode_gate.marker SET stripe_mode = 'live'");
    engine.docker(['restart', '-t', '1', backend.id]);
    await until(() => !container('all-in-one').running, 'the watcher stopping the backend', DOCKER_WAIT);
    expect(watchLogs()).toMatch(/stopped container smge2e_all-in-one_1 \(refused-mismatch\)/);
    for (const secret of secretsUsed()) expect(watchLogs()).not.toContain(secret);
  });
});

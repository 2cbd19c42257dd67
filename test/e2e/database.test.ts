import { createServer, connect as tcpConnect } from 'node:net';
import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { GATE_LOCK_KEY } from '../../src/db/lock.js';
import { json, runCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';
import { TEST_KEYS } from '../support/gate.js';
import { freePort } from '../../scripts/lib/postgres.js';

/** A TCP proxy to the test server on `port`: the database "comes up" when this starts; closed when the test ends. */
function startProxy(port: number, target: URL): void {
  const server = createServer((socket) => {
    const upstream = tcpConnect(Number(target.port), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  server.listen(port, '127.0.0.1');
  onTestFinished(() => void server.close());
}

describe('the database connection', () => {
  it('gives up after STRIPE_GATE_DB_WAIT_SECONDS with 69, naming the server with the password masked', async () => {
    const port = await freePort();
    const url = `postgresql://hievents:Sup3rS3cretDbPassw0rd@127.0.0.1:${port}/hi-events`;
    const run = await runCli(['check'], { ...TEST_KEYS, DATABASE_URL: url, STRIPE_GATE_DB_WAIT_SECONDS: '2' });
    expect(run.code).toBe(69);
    expect(run.ms).toBeGreaterThanOrEqual(2000);
    const final = run.logs.at(-1)!;
    expect(final.msg).toContain(`postgresql://hievents:***@127.0.0.1:${port}/hi-events`);
    expect(final.msg).toContain('STRIPE_GATE_DB_WAIT_SECONDS=2s');
    expect(run.logs.filter((l) => l.msg === 'database not reachable yet; retrying').length).toBeGreaterThan(1);
    expect(run.stderr).not.toContain('Sup3rS3cretDbPassw0rd');
  });

  it('waits for a database that comes up during the wait', async () => {
    const db = await freshDatabase('empty');
    const port = await freePort();
    const target = new URL(db.url);
    const url = new URL(db.url);
    url.port = String(port);
    const pending = runCli(['check', '--json'], { ...TEST_KEYS, DATABASE_URL: url.toString(), STRIPE_GATE_DB_WAIT_SECONDS: '20' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    startProxy(port, target);
    const run = await pending;
    expect(run.code).toBe(0);
    expect(json(run).decision).toBe('recorded');
    expect(run.logs.some((l) => l.msg === 'database not reachable yet; retrying')).toBe(true);
  });

  it('fails at once with 78 when the database refuses the password', async () => {
    const db = await freshDatabase('empty');
    const url = new URL(db.url);
    url.password = 'WrongPassword123';
    const run = await runCli(['check'], { ...TEST_KEYS, DATABASE_URL: url.toString(), STRIPE_GATE_DB_WAIT_SECONDS: '30' });
    expect(run.code).toBe(78);
    expect(run.ms).toBeLessThan(10_000);
    expect(run.logs.at(-1)!.msg).toContain('refused the login');
    expect(run.stderr).not.toContain('WrongPassword123');
  });
});

describe('the advisory lock', () => {
  async function holdLock(url: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('SELECT pg_advisory_lock($1)', [GATE_LOCK_KEY]);
    return client;
  }

  it('exits 75 when another gate holds the lock past STRIPE_GATE_LOCK_WAIT_SECONDS, changing nothing', async () => {
    const db = await freshDatabase('empty');
    const holder = await holdLock(db.url);
    try {
      const run = await runCli(['check'], { ...TEST_KEYS, DATABASE_URL: db.url, STRIPE_GATE_LOCK_WAIT_SECONDS: '1' });
      expect(run.code).toBe(75);
      expect(run.logs.at(-1)!.msg).toContain('STRIPE_GATE_LOCK_WAIT_SECONDS=1s');
      expect(await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'stripe_mode_gate'")).toEqual([]);
    } finally {
      await holder.end();
    }
  });

  it('makes gates started together take turns: one adopts, the others then find its marker', async () => {
    const db = await freshDatabase('E');
    const holder = await holdLock(db.url);
    const env = { ...TEST_KEYS, DATABASE_URL: db.url, STRIPE_GATE_ON_UNKNOWN: 'adopt' };
    const runs = [1, 2, 3].map(() => runCli(['check', '--json'], env));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await holder.end();
    const results = await Promise.all(runs);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(results.map((r) => json(r).decision).sort()).toEqual(['adopted', 'match', 'match']);
    expect(results.every((r) => r.logs.some((l) => String(l.msg).startsWith('another gate holds the lock')))).toBe(true);
    expect(await db.query('SELECT decision FROM stripe_mode_gate.run_log')).toEqual([{ decision: 'adopted' }]);
  });

  it('is released after a refusal, so the next gate is not kept waiting', async () => {
    const db = await freshDatabase('F');
    const env = { ...TEST_KEYS, DATABASE_URL: db.url, STRIPE_GATE_LOCK_WAIT_SECONDS: '0' };
    expect((await runCli(['check'], env)).code).toBe(66);
    expect((await runCli(['check'], env)).code).toBe(66);
    const [{ held }] = await db.query<{ held: string }>("SELECT count(*) AS held FROM pg_locks WHERE locktype = 'advisory'");
    expect(Number(held)).toBe(0);
  });
});

describe('logs for people', () => {
  it('LOG_FORMAT=pretty prints readable lines, still without secrets', async () => {
    const db = await freshDatabase('empty');
    const run = await runCli(['check'], { ...TEST_KEYS, DATABASE_URL: db.url, LOG_FORMAT: 'pretty' });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/INFO.*Recorded test keys, SaaS mode off/);
    expect(run.logs).toEqual([]);
  });
});

describe('--json on a failure', () => {
  it('still prints one JSON document, with the exit code and the reason', async () => {
    const port = await freePort();
    const run = await runCli(['check', '--json'], {
      ...TEST_KEYS,
      DATABASE_URL: `postgresql://u:Pw123456789@127.0.0.1:${port}/x`,
      STRIPE_GATE_DB_WAIT_SECONDS: '0',
    });
    expect(run.code).toBe(69);
    expect(json(run)).toMatchObject({ decision: null, exitCode: 69, error: expect.stringContaining(`postgresql://u:***@127.0.0.1:${port}/x`) });
    const config = await runCli(['plan', '--json'], { ...TEST_KEYS, STRIPE_GATE_ON_MISMATCH: 'maybe' });
    expect(json(config)).toMatchObject({ decision: null, exitCode: 78, problems: ['STRIPE_GATE_ON_MISMATCH: expected refuse or clean'] });
  });
});

describe('a database that goes away during the run', () => {
  it('is exit 69 (retrying helps), and the next run succeeds', async () => {
    const db = await freshDatabase('E');
    const env = { ...TEST_KEYS, DATABASE_URL: db.url, STRIPE_GATE_ON_UNKNOWN: 'adopt', STRIPE_GATE_LOCK_WAIT_SECONDS: '30' };
    // The gate waits for the lock; its session is then terminated by the server, as in a restart.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [GATE_LOCK_KEY]);
    const pending = runCli(['check'], env);
    for (let i = 0; i < 100; i++) {
      const waiting = await db.query("SELECT pid FROM pg_stat_activity WHERE application_name = 'stripe-mode-gate' AND wait_event_type = 'Lock'");
      if (waiting.length > 0) {
        await db.query('SELECT pg_terminate_backend($1)', [(waiting[0] as { pid: number }).pid]);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const run = await pending;
    await holder.end();
    expect(run.code).toBe(69);
    expect(run.logs.at(-1)!.msg).toContain('lost the connection');
    expect(await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'stripe_mode_gate'")).toEqual([]);
    expect((await runCli(['check'], env)).code).toBe(0);
  });
});

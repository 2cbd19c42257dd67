// SIGTERM (docker stop, a rollout) and SIGINT at every wait of a run: the gate ends within 2 s with 143/130,
// and whatever it had not committed is rolled back by the server.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { GATE_LOCK_KEY } from '../../src/db/lock.js';
import { seeded } from '../fixtures/hievents/index.js';
import { startCli } from '../support/cli.js';
import { largeDatabase, untilRepairDeletes } from '../support/large.js';
import { freshDatabase } from '../support/db.js';
import { LIVE_KEYS, TEST_KEYS } from '../support/gate.js';
import { until } from '../support/wait.js';

/** Sends `signal` once the run has logged `waiting` (a fragment of a log message), and times the exit from there. */
async function stopWhile(args: string[], env: Record<string, string>, waiting: RegExp, signal: NodeJS.Signals) {
  const { child, done } = startCli(args, env);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await until(() => waiting.test(stderr), `the gate to log ${waiting}`, { ms: 20_000 });
  const sent = Date.now();
  child.kill(signal);
  const run = await done;
  return { run, ms: Date.now() - sent };
}

describe('a stop signal at any wait', () => {
  it('SIGTERM while waiting for the database: 143 within 2 s', async () => {
    const env = { ...TEST_KEYS, DATABASE_URL: 'postgresql://gate:pw-unused-1234@127.0.0.1:9/none', STRIPE_GATE_DB_WAIT_SECONDS: '60' };
    const { run, ms } = await stopWhile(['check'], env, /database not reachable yet/, 'SIGTERM');
    expect(run.code).toBe(143);
    expect(ms).toBeLessThan(2000);
    expect(run.logs.at(-1)).toMatchObject({ signal: 'SIGTERM', exitCode: 143 });
  });

  it('SIGINT while waiting for another gate: 130 within 2 s, and the other gate keeps its lock', async () => {
    const db = await freshDatabase('E');
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [GATE_LOCK_KEY]);
      const env = { ...TEST_KEYS, DATABASE_URL: db.url, STRIPE_GATE_LOCK_WAIT_SECONDS: '60' };
      const { run, ms } = await stopWhile(['check'], env, /another gate holds the lock/, 'SIGINT');
      expect(run.code).toBe(130);
      expect(ms).toBeLessThan(2000);
      const held = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted");
      expect(held).toEqual([{ n: 1 }]);
    } finally {
      await holder.end();
    }
  });

  it('SIGTERM in the middle of a large repair: 143 within 2 s, and the database holds the old state', async () => {
    const db = await largeDatabase(300_000);
    const before = await db.checksums();
    const { child, done } = startCli(['check'], { ...LIVE_KEYS, DATABASE_URL: db.url, STRIPE_GATE_ON_MISMATCH: 'clean' });
    await untilRepairDeletes(db, child);
    const sent = Date.now();
    child.kill('SIGTERM');
    const run = await done;
    expect(run.code).toBe(143);
    expect(Date.now() - sent).toBeLessThan(2000);
    // The server rolls the transaction back once it notices the connection is gone; its locks go with it.
    expect(await db.checksums()).toEqual(before);
    expect(await db.query('SELECT count(*)::int AS n FROM stripe_mode_gate.archive')).toEqual([{ n: 0 }]);
    expect(await db.query('SELECT stripe_mode FROM stripe_mode_gate.marker')).toEqual([{ stripe_mode: 'test' }]);
    expect(await db.query('SELECT count(*)::int AS n FROM stripe_customers')).toEqual([{ n: 300_000 + seeded.E.tables.stripe_customers }]);
  }, 60_000);
});

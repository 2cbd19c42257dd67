import { describe, expect, it } from 'vitest';
import { json, runCli, startCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { LIVE_KEYS, TEST_KEYS } from '../support/gate.js';
import { until } from '../support/wait.js';

let db: TestDatabase | undefined;

const CUSTOMERS = 300_000;
const ACCOUNTS = 150_000;

/** A large Hi.Events database, so that each repair statement runs long enough to be killed in. */
async function largeDatabase(): Promise<TestDatabase> {
  const large = await freshDatabase('E');
  await large.query(`INSERT INTO stripe_customers (name, email, stripe_customer_id, created_at, updated_at)
    SELECT 'Customer ' || n, 'c' || n || '@example.com', 'cus_Bulk' || n, now(), now() FROM generate_series(1, ${CUSTOMERS}) n`);
  await large.query(`INSERT INTO accounts (name, email, short_id, stripe_account_id, stripe_connect_setup_complete, stripe_connect_account_type)
    SELECT 'Account ' || n, 'a' || n || '@example.com', 'acc_' || n, 'acct_Bulk' || n, true, 'express' FROM generate_series(1, ${ACCOUNTS}) n`);
  return large;
}

async function gateSessions(): Promise<{ query: string }[]> {
  return db!.query("SELECT query FROM pg_stat_activity WHERE application_name = 'stripe-mode-gate' AND datname = current_database() AND state = 'active'");
}

/** Starts a clean and SIGKILLs it as soon as the server runs a statement matching `pattern`. */
async function killDuring(pattern: RegExp): Promise<string> {
  const { child, done } = startCli(['check'], { ...LIVE_KEYS, DATABASE_URL: db!.url, STRIPE_GATE_ON_MISMATCH: 'clean' });
  let seen: string | undefined;
  await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`the gate finished before ${pattern} was seen`);
      seen = (await gateSessions()).find((s) => pattern.test(s.query))?.query;
      return seen !== undefined;
    },
    `a statement matching ${pattern}`,
    { ms: 20_000, everyMs: 5 },
  );
  child.kill('SIGKILL');
  await done;
  return seen!;
}

async function waitForServerSideAbort(): Promise<void> {
  await until(async () => (await gateSessions()).length === 0, 'the killed gate session to end on the server', { ms: 20_000, everyMs: 50 });
}

describe('a gate killed in the middle of a repair', () => {
  it.each([
    ['while deleting the customers (first statement)', /DELETE FROM "public"\."stripe_customers"/],
    ['while resetting the accounts (after the deletes ran)', /UPDATE "public"\."accounts"/],
  ])(
    '%s leaves the old state, and a later clean and restore work',
    async (_when, pattern) => {
      db = await largeDatabase();
      expect((await runCli(['adopt', '--mode', 'test'], { ...TEST_KEYS, DATABASE_URL: db.url })).code).toBe(0);
      const before = await db.checksums();

      const killedIn = await killDuring(pattern);
      expect(killedIn).toMatch(pattern);
      // Other sessions see the old state at once: the transaction never committed.
      expect(await db.query('SELECT stripe_mode FROM stripe_mode_gate.marker')).toEqual([{ stripe_mode: 'test' }]);
      expect(await db.query("SELECT decision FROM stripe_mode_gate.run_log WHERE decision = 'cleaned'")).toEqual([]);
      await waitForServerSideAbort();
      expect(await db.query('SELECT count(*)::int AS n FROM stripe_mode_gate.archive')).toEqual([{ n: 0 }]);
      expect(await db.checksums()).toEqual(before);

      const clean = await runCli(['check', '--json'], { ...LIVE_KEYS, DATABASE_URL: db.url, STRIPE_GATE_ON_MISMATCH: 'clean' });
      expect(clean.code).toBe(0);
      expect(json(clean).changes.repair.stripe_customers.rows).toBe(CUSTOMERS + 6);
      const restore = await runCli(['restore'], { ...TEST_KEYS, DATABASE_URL: db.url });
      expect(restore.code).toBe(0);
      expect(await db.checksums()).toEqual(before);
    },
    120_000,
  );
});

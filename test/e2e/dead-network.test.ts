// A network that stops delivering in the middle of a repair: the gate gives up within its documented bound
// (lock wait + STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS + 5 s) with 69, and nothing of the repair is kept.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { LIVE_KEYS, TEST_KEYS } from '../support/gate.js';
import { startStallingProxy, type StallingProxy } from '../support/tcp-proxy.js';

let db: TestDatabase | undefined;
let proxy: StallingProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await db?.close();
  proxy = undefined;
  db = undefined;
});

describe('a network that stops delivering', () => {
  it('mid-repair: exit 69 within the bound, nothing committed', async () => {
    db = await freshDatabase('E');
    await db.query(`INSERT INTO stripe_customers (name, email, stripe_customer_id, created_at, updated_at)
      SELECT 'Customer ' || n, 'c' || n || '@example.com', 'cus_Bulk' || n, now(), now() FROM generate_series(1, 300000) n`);
    expect((await runCli(['adopt', '--mode', 'test'], { ...TEST_KEYS, DATABASE_URL: db.url })).code).toBe(0);
    const before = await db.checksums();
    proxy = await startStallingProxy(db.url);
    const env = { ...LIVE_KEYS, DATABASE_URL: proxy.url, STRIPE_GATE_ON_MISMATCH: 'clean', STRIPE_GATE_LOCK_WAIT_SECONDS: '1', STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS: '2' };
    const { child, done } = startCli(['check'], env);
    const deleting = async () =>
      (await db!.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'stripe-mode-gate' AND query LIKE 'WITH changed AS (DELETE%'")).length > 0;
    for (let seen = false; !seen; seen = await deleting()) {
      if (child.exitCode !== null) throw new Error('the repair ended before the network could break');
    }
    proxy.stall();
    const stalledAt = Date.now();
    const run = await done;
    expect(run.code).toBe(69);
    // 1 s lock wait + 2 s statement + 5 s, then 1 s to give up on a polite disconnect.
    expect(Date.now() - stalledAt).toBeLessThan(10_000);
    expect(run.logs.at(-1)!.msg).toContain('stopped answering');
    expect(await db.checksums()).toEqual(before);
    expect(await db.query('SELECT count(*)::int AS n FROM stripe_mode_gate.archive')).toEqual([{ n: 0 }]);
  }, 60_000);
});

// The archive keeps customers' names and emails: prune (and STRIPE_GATE_ARCHIVE_DAYS in check) deletes what
// it keeps of old and of restored runs; restore keeps working for the rest and says so of a pruned run.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { until } from '../support/wait.js';
import { runPrune } from '../../src/core/prune.js';
import { runRestore } from '../../src/core/restore.js';
import { runStatus } from '../../src/core/status.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { failure, inProcessGate, LIVE_KEYS as LIVE, TEST_KEYS } from '../support/gate.js';

let db: TestDatabase | undefined;
const gate = inProcessGate(() => db!.url);
const archived = async () =>
  (await db!.query<{ run_id: string; n: string }>('SELECT run_id, count(*) AS n FROM stripe_mode_gate.archive GROUP BY 1 ORDER BY 1')).map((r) => [
    r.run_id,
    Number(r.n),
  ]);
const lastCleaned = async () => (await db!.query<{ id: string }>("SELECT max(id)::text AS id FROM stripe_mode_gate.run_log WHERE decision = 'cleaned'"))[0].id;

describe('pruning the archive', () => {
  it('prunes restored runs, then runs older than the days given; status shows what is kept; a pruned run cannot be restored', async () => {
    db = await freshDatabase('E');
    await gate.adoptTest();
    await gate.cleanToLive();
    const first = await lastCleaned();
    await runRestore(await gate.ctx(TEST_KEYS), first);
    await gate.cleanToLive();
    const second = await lastCleaned();
    expect((await archived()).map(([run]) => run)).toEqual([first, second]);

    // Without days: the restored run only (its rows are back in place).
    expect(await runPrune(await gate.ctx(TEST_KEYS), null)).toMatchObject({ runs: [first] });
    expect((await archived()).map(([run]) => run)).toEqual([second]);
    const status = await runStatus(await gate.ctx(TEST_KEYS));
    const kept = (await archived())[0][1];
    expect(kept).toBeGreaterThan(0);
    expect(status.archive).toMatchObject({ rows: kept, oldestRun: expect.stringMatching(/^\d{4}-/) });
    expect(status.archive!.bytes).toBeGreaterThan(0);

    // A run not pruned is still restorable; restored, the next prune takes it.
    await runRestore(await gate.ctx(TEST_KEYS), second);
    await gate.cleanToLive();
    const third = await lastCleaned();
    expect(await runPrune(await gate.ctx(TEST_KEYS), null)).toMatchObject({ runs: [second] });

    // A young run is kept; once older than the days, check prunes it at its next start.
    await gate.check({ ...LIVE, STRIPE_GATE_ARCHIVE_DAYS: '30' });
    expect((await archived()).map(([run]) => run)).toEqual([third]);
    await db.query("UPDATE stripe_mode_gate.run_log SET at = now() - interval '31 days' WHERE id = $1", [third]);
    expect(await gate.check({ ...LIVE, STRIPE_GATE_ARCHIVE_DAYS: '30' })).toMatchObject({ decision: 'match' });
    expect(await archived()).toEqual([]);
    expect((await runStatus(await gate.ctx(TEST_KEYS))).archive).toMatchObject({ rows: 0, oldestRun: null });

    const refused = await failure(runRestore(await gate.ctx(TEST_KEYS), third));
    expect(refused.exitCode).toBe(64);
    expect(refused.message).toMatch(new RegExp(`^run #${third} was pruned on \\d{4}-.*its archive is gone`));
  });

  it('check prunes before it locks anything of Hi.Events: a writer waiting during the prune is not let through after a repair', async () => {
    db = await freshDatabase('E');
    await gate.adoptTest();
    await gate.cleanToLive();
    const old = await lastCleaned();
    // A live customer, stale once the switch back to test keys is made: that switch repairs (and locks).
    await db.query(
      "INSERT INTO stripe_customers (name, email, stripe_customer_id, created_at, updated_at) VALUES ('Live', 'live@example.com', 'cus_Live1', now(), now())",
    );
    await db.query("UPDATE stripe_mode_gate.run_log SET at = now() - interval '40 days' WHERE id = $1", [old]);
    await db.query("UPDATE stripe_mode_gate.marker SET recorded_at = now() - interval '40 days'");
    // Hold the old run's row, so that the prune waits; meanwhile a backend with the old keys writes.
    const holder = new pg.Client({ connectionString: db.url });
    const writer = new pg.Client({ connectionString: db.url, application_name: 'old-backend' });
    await Promise.all([holder.connect(), writer.connect()]);
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM stripe_mode_gate.run_log WHERE id = $1 FOR UPDATE', [old]);
      const run = gate.check({ ...TEST_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean', STRIPE_GATE_ARCHIVE_DAYS: '30' }).then(
        (result) => ({ result, error: null }),
        (error: Error & { exitCode?: number }) => ({ result: null, error }),
      );
      await until(
        async () => (await db!.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'stripe-mode-gate' AND wait_event_type = 'Lock'")).length > 0,
        'the prune waiting',
      );
      let inserted = false;
      const insert = writer
        .query(
          "INSERT INTO stripe_customers (name, email, stripe_customer_id, created_at, updated_at) VALUES ('Late', 'late@example.com', 'cus_LateLive', now(), now())",
        )
        .then(() => (inserted = true));
      // Written, or waiting on a lock of the repair: then the prune may go on.
      await until(
        async () =>
          inserted || (await db!.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'old-backend' AND wait_event_type = 'Lock'")).length > 0,
        'the write',
      );
      await holder.query('COMMIT');
      const { result, error } = await run;
      await insert;
      // The write came before any lock of the repair: counted, or seen as written meanwhile; never left behind.
      const left = await db.query("SELECT 1 FROM stripe_customers WHERE stripe_customer_id = 'cus_LateLive'");
      if (result?.decision === 'cleaned') expect(left).toEqual([]);
      else expect(error?.exitCode).toBe(69);
    } finally {
      await holder.end();
      await writer.end();
    }
  });

  it('prune on a database the gate never wrote to changes nothing', async () => {
    db = await freshDatabase('E');
    expect(await runPrune(await gate.ctx(TEST_KEYS), 1)).toEqual({ runs: [], rows: 0 });
    expect(await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'stripe_mode_gate'")).toEqual([]);
  });
});

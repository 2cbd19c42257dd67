// Faults the gate must survive: many replicas at once on one switch, and SIGKILL at random moments of a large
// repair. Each fault is followed by a check that the database holds the old state or the new, never a mix.
import { describe, expect, it } from 'vitest';
import { json, runCli, startCli } from '../support/cli.js';
import { seeded } from '../fixtures/hievents/index.js';
import type { TestDatabase } from '../support/db.js';
import { largeDatabase } from '../support/large.js';
import { LIVE_KEYS, TEST_KEYS } from '../support/gate.js';
import { until } from '../support/wait.js';

let db: TestDatabase | undefined;

const count = async (sql: string) => Number((await db!.query<{ n: string }>(sql))[0].n);

describe('N gates started at once on one switch, like N Kubernetes replicas', () => {
  it('all exit 0, exactly one repairs, the others then match, none waits past the lock timeout', async () => {
    db = await largeDatabase(50_000);
    const lockWait = 60;
    const env = { ...LIVE_KEYS, DATABASE_URL: db.url, STRIPE_GATE_ON_MISMATCH: 'clean', STRIPE_GATE_LOCK_WAIT_SECONDS: String(lockWait) };
    const runs = await Promise.all(Array.from({ length: 6 }, () => runCli(['check', '--json'], env)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(runs.map((r) => json(r).decision).sort()).toEqual(['cleaned', 'match', 'match', 'match', 'match', 'match']);
    expect(Math.max(...runs.map((r) => r.ms))).toBeLessThan(lockWait * 1000);
    expect(await db.query("SELECT decision FROM stripe_mode_gate.run_log WHERE decision = 'cleaned'")).toHaveLength(1);
    const { tables, accountsWithAnyConnectColumn } = seeded.E;
    expect(await count('SELECT count(*) AS n FROM stripe_mode_gate.archive')).toBe(
      50_000 + tables.stripe_customers + tables.account_stripe_platforms + accountsWithAnyConnectColumn,
    );
  }, 120_000);
});

describe('SIGKILL at random moments of a large repair, again and again', () => {
  it('leaves the old state or the new every time, and clean + restore then give back every row', async () => {
    const CUSTOMERS = 150_000;
    db = await largeDatabase(CUSTOMERS);
    const original = await db.checksums();
    const total = CUSTOMERS + 6;
    // How long a whole clean takes here, so that the kills land all over it.
    const full = await runCli(['check'], { ...LIVE_KEYS, DATABASE_URL: db.url, STRIPE_GATE_ON_MISMATCH: 'clean' });
    expect(full.code).toBe(0);
    expect((await runCli(['restore'], { ...TEST_KEYS, DATABASE_URL: db.url })).code).toBe(0);
    expect(await db.checksums()).toEqual(original);
    let killedMidway = 0;
    let completed = 0;
    let rowsVerified = 0;
    const ROUNDS = 10;
    for (let round = 0; round < ROUNDS; round++) {
      const { child, done } = startCli(['check'], { ...LIVE_KEYS, DATABASE_URL: db.url, STRIPE_GATE_ON_MISMATCH: 'clean' });
      // Anywhere from before the connection to just after the commit.
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * full.ms * 1.3)));
      child.kill('SIGKILL');
      const { code } = await done;
      // Let the server notice the dead session and roll back what it had not committed.
      await until(
        async () => (await db!.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'stripe-mode-gate'")).length === 0,
        'the killed session to end on the server',
        { ms: 10_000, everyMs: 50 },
      );
      const [marker] = await db.query<{ stripe_mode: string }>('SELECT stripe_mode FROM stripe_mode_gate.marker');
      const customers = await count('SELECT count(*) AS n FROM stripe_customers');
      const archived = await count(
        "SELECT count(*) AS n FROM stripe_mode_gate.archive a JOIN stripe_mode_gate.run_log r ON r.id = a.run_id WHERE r.restored_by IS NULL AND a.table_name = 'stripe_customers'",
      );
      rowsVerified += customers + archived;
      if (marker.stripe_mode === 'test') {
        // Old state: everything in place, nothing archived by an unrestored run.
        expect({ customers, archived }).toEqual({ customers: total, archived: 0 });
        expect(await db.checksums()).toEqual(original);
        killedMidway += code === null ? 1 : 0;
      } else {
        // New state: every customer moved to the archive, in the same transaction as the marker.
        expect({ customers, archived }).toEqual({ customers: 0, archived: total });
        completed++;
        expect((await runCli(['restore'], { ...TEST_KEYS, DATABASE_URL: db.url })).code).toBe(0);
        expect(await db.checksums()).toEqual(original);
      }
    }
    console.info(
      `kill rounds: ${ROUNDS} over a ${full.ms} ms clean, left the old state: ${ROUNDS - completed} (${killedMidway} killed while running), committed: ${completed}, rows verified: ${rowsVerified}`,
    );
    expect(killedMidway + completed).toBeGreaterThan(0);
  }, 240_000);
});

describe('the connection cut in the middle of a repair', () => {
  it('is exit 69 with nothing changed, and the next run repairs', async () => {
    db = await largeDatabase(200_000);
    const original = await db.checksums();
    const env = { ...LIVE_KEYS, DATABASE_URL: db.url, STRIPE_GATE_ON_MISMATCH: 'clean' };
    const pending = runCli(['check'], env);
    let terminated = false;
    for (let i = 0; i < 400 && !terminated; i++) {
      const [busy] = await db.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'stripe-mode-gate' AND state = 'active' AND query LIKE '%DELETE FROM%'",
      );
      if (busy) terminated = (await db.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [busy.pid]))[0].ok;
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const run = await pending;
    expect(terminated).toBe(true);
    expect(run.code).toBe(69);
    expect(run.logs.at(-1)!.msg).toContain('lost the connection');
    expect(await db.checksums()).toEqual(original);
    const again = await runCli(['check', '--json'], env);
    expect(json(again).decision).toBe('cleaned');
  }, 60_000);
});

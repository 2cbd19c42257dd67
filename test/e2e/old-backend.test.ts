// A backend (or queue worker) still running with the old keys while the gate repairs: its writes wait on the
// repair's table locks and would land right after the commit. The gate rolls the repair back and names it;
// once it is stopped, the repair leaves no id of the old configuration behind.
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { json, runCli, startCli } from '../support/cli.js';
import type { TestDatabase } from '../support/db.js';
import { largeDatabase, untilRepairDeletes } from '../support/large.js';
import { LIVE_KEYS } from '../support/gate.js';

let db: TestDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

/** Inserts test-mode customers one after another, as checkouts on a backend with the old keys do. */
function oldBackend(url: string) {
  const client = new pg.Client({ connectionString: url, application_name: 'hi-events-old-backend' });
  let running = true;
  let written = 0;
  const loop = (async () => {
    await client.connect();
    while (running) {
      written++;
      await client.query("INSERT INTO stripe_customers (name, email, stripe_customer_id, created_at, updated_at) VALUES ('Late', $1, $2, now(), now())", [
        `late${written}@example.com`,
        `cus_OldMode${written}`,
      ]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await client.end();
  })();
  return {
    written: () => written,
    async stop() {
      running = false;
      await loop;
    },
  };
}

const count = async (sql: string) => Number((await db!.query<{ n: string }>(sql))[0].n);

describe('an old backend still writing during a large clean', () => {
  it('is named and the repair rolled back; once it is stopped, the repair leaves none of its ids', async () => {
    db = await largeDatabase(200_000);
    const env = { ...LIVE_KEYS, DATABASE_URL: db.url, STRIPE_GATE_ON_MISMATCH: 'clean' };

    const writer = oldBackend(db.url);
    const refused = await runCli(['check', '--json'], env);
    expect(refused.code).toBe(65);
    expect(json(refused).error).toContain('waiting to write Stripe ids');
    expect(json(refused).error).toContain('hi-events-old-backend');
    expect(await count('SELECT count(*) AS n FROM stripe_mode_gate.archive')).toBe(0);
    expect(await db.query('SELECT stripe_mode FROM stripe_mode_gate.marker')).toEqual([{ stripe_mode: 'test' }]);
    await writer.stop();
    expect(writer.written()).toBeGreaterThan(0);

    const cleaned = await runCli(['check', '--json'], env);
    expect(cleaned.code).toBe(0);
    expect(json(cleaned).decision).toBe('cleaned');
    expect(await count("SELECT count(*) AS n FROM stripe_customers WHERE stripe_customer_id LIKE 'cus_OldMode%'")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM stripe_mode_gate.archive WHERE old_row->>'stripe_customer_id' LIKE 'cus_OldMode%'")).toBe(writer.written());
    expect(json(await runCli(['check', '--json'], env)).decision).toBe('match');
  }, 60_000);

  it('does not take a maintenance session waiting on the tables (VACUUM, an index build) for a writer', async () => {
    db = await largeDatabase(200_000);
    const { child, done } = startCli(['check', '--json'], { ...LIVE_KEYS, DATABASE_URL: db.url, STRIPE_GATE_ON_MISMATCH: 'clean' });
    await untilRepairDeletes(db, child);
    // What VACUUM takes: it waits behind the repair's lock, but writes nothing.
    const maintenance = new pg.Client({ connectionString: db.url, application_name: 'maintenance' });
    await maintenance.connect();
    const queued = maintenance.query('BEGIN; LOCK TABLE stripe_customers IN SHARE UPDATE EXCLUSIVE MODE; COMMIT');
    const run = await done;
    await queued;
    await maintenance.end();
    expect(run.code).toBe(0);
    expect(json(run).decision).toBe('cleaned');
  }, 60_000);
});

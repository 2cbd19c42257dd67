// A backend (or queue worker) still running with the old keys while the gate repairs: its writes wait on the
// repair's table locks and would land right after the commit. The gate rolls the repair back and names it;
// once it is stopped, the repair leaves no id of the old configuration behind.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { json, runCli, startCli } from '../support/cli.js';
import type { TestDatabase } from '../support/db.js';
import { startFakeStripe } from '../support/fake-stripe.js';
import { largeDatabase, untilRepairDeletes } from '../support/large.js';
import { LIVE_KEYS, TEST_KEYS } from '../support/gate.js';

let db: TestDatabase | undefined;

/** Inserts test-mode customers one after another, as checkouts on a backend with the old keys do. */
function oldBackend(url: string, limit = Infinity) {
  const client = new pg.Client({ connectionString: url, application_name: 'hi-events-old-backend' });
  let running = true;
  let written = 0;
  const loop = (async () => {
    await client.connect();
    while (running && written < limit) {
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
    done: () => loop,
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

describe('an old backend idle during a large clean that writes right after it', () => {
  it('its ids are found at the next start (Stripe says they are of test mode) and refused, then repaired; valid ids stay', async () => {
    db = await largeDatabase(200_000);
    const ACCOUNT = 'acct_1GateOldBackend';
    const stripe = await startFakeStripe({
      keys: { [TEST_KEYS.STRIPE_SECRET_KEY]: ACCOUNT, [LIVE_KEYS.STRIPE_SECRET_KEY]: ACCOUNT },
      customers: {
        ...Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`cus_OldMode${n}`, { account: ACCOUNT, mode: 'test' as const }])),
        cus_NewLive1: { account: ACCOUNT, mode: 'live' },
      },
    });
    try {
      const env = { ...LIVE_KEYS, DATABASE_URL: db.url, STRIPE_GATE_STRIPE_API: 'auto', STRIPE_GATE_STRIPE_API_URL: stripe.url };
      const cleaned = await runCli(['check', '--json'], { ...env, STRIPE_GATE_ON_MISMATCH: 'clean' });
      expect(json(cleaned).decision).toBe('cleaned');
      // The old backend was idle (a PHP worker between requests): it writes only now, after the commit.
      const writer = oldBackend(db.url, 5);
      await writer.done();
      await db.query(
        "INSERT INTO stripe_customers (name, email, stripe_customer_id, created_at, updated_at) VALUES ('New', 'new@example.com', 'cus_NewLive1', now(), now())",
      );

      const refused = await runCli(['check', '--json'], env);
      expect(refused.code).toBe(65);
      expect(json(refused).lateWrites.stale.map((r: { id: string }) => r.id)).toEqual([
        'cus_OldMode1',
        'cus_OldMode2',
        'cus_OldMode3',
        'cus_OldMode4',
        'cus_OldMode5',
      ]);
      expect(json(refused).message).toContain('a backend or queue worker still running with the old configuration wrote them');
      expect(await count("SELECT count(*) AS n FROM stripe_customers WHERE stripe_customer_id LIKE 'cus_OldMode%'")).toBe(5);

      const repaired = await runCli(['check', '--json'], { ...env, STRIPE_GATE_ON_MISMATCH: 'clean' });
      expect(repaired.code).toBe(0);
      expect(json(repaired).changes.repair).toEqual({ stripe_customers: { action: 'delete', rows: 5 } });
      expect(await count("SELECT count(*) AS n FROM stripe_customers WHERE stripe_customer_id LIKE 'cus_OldMode%'")).toBe(0);
      expect(await count("SELECT count(*) AS n FROM stripe_customers WHERE stripe_customer_id = 'cus_NewLive1'")).toBe(1);

      // Only the valid id written since: the watch ends, and a restart asks Stripe about no id.
      expect(json(await runCli(['check', '--json'], env)).decision).toBe('match');
      expect(await db.query('SELECT unchecked FROM stripe_mode_gate.marker')).toEqual([{ unchecked: null }]);
      const asked = stripe.requests.length;
      expect(json(await runCli(['check', '--json'], env)).decision).toBe('match');
      expect(stripe.requests.length).toBe(asked);
    } finally {
      await stripe.close();
    }
  }, 60_000);
});

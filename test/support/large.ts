// Large Hi.Events databases for the tests that act in the middle of a repair.
import type { ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import { until } from './wait.js';
import { freshDatabase, type TestDatabase } from './db.js';
import { TEST_KEYS } from './gate.js';

/** A shape E database with `customers` more test-mode customers, adopted as test keys (through the CLI); dropped as freshDatabase's are. */
export async function largeDatabase(customers: number): Promise<TestDatabase> {
  const large = await freshDatabase('E');
  await large.query(`INSERT INTO stripe_customers (name, email, stripe_customer_id, created_at, updated_at)
    SELECT 'Customer ' || n, 'c' || n || '@example.com', 'cus_Bulk' || n, now(), now() FROM generate_series(1, ${customers}) n`);
  expect((await runCli(['adopt', '--mode', 'test'], { ...TEST_KEYS, DATABASE_URL: large.url })).code).toBe(0);
  return large;
}

/** Returns once the server runs the gate's DELETE of a repair; fails if the gate ended before that. */
export async function untilRepairDeletes(db: TestDatabase, gate: ChildProcess): Promise<void> {
  const deleting = async () =>
    (await db.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'stripe-mode-gate' AND query LIKE 'WITH changed AS (DELETE%'")).length > 0;
  await until(
    async () => {
      if (gate.exitCode !== null) throw new Error('the gate ended before its repair was seen');
      return deleting();
    },
    "the repair's DELETE",
    { ms: 30_000, everyMs: 5 },
  );
}

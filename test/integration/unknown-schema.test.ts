import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { runPlan } from '../../src/core/plan.js';
import { seeded } from '../fixtures/hievents/index.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { gateContext, LIVE_KEYS, TEST_KEYS } from '../support/gate.js';
import { refusedByName } from '../support/refusals.js';

let db: TestDatabase | undefined;

const run = async (env: Record<string, string>) => runCheck((await gateContext({ DATABASE_URL: db!.url, ...env })).ctx);

describe('a schema the gate does not know', () => {
  it('is not taken for an empty install: a renamed id column is refused (66) and named', async () => {
    db = await freshDatabase('E');
    await db.query('ALTER TABLE stripe_customers RENAME COLUMN stripe_customer_id TO customer_ref');
    const before = await db.checksums();
    const result = await run(TEST_KEYS);
    expect(result).toMatchObject({ decision: 'refused-unknown', exitCode: 66 });
    expect(result.message).toContain('stripe_customers.stripe_customer_id is missing');
    expect(await db.checksums()).toEqual(before);
  });

  it('is counted around where it can be, and reported by plan', async () => {
    db = await freshDatabase('B');
    await db.query('ALTER TABLE accounts ALTER COLUMN stripe_connect_account_type TYPE integer USING length(stripe_connect_account_type)');
    await run({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const plan = await runPlan((await gateContext({ DATABASE_URL: db.url, ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' })).ctx);
    expect(plan.decision).toBe('refused-mismatch');
    expect(plan.unexpected).toEqual(['accounts.stripe_connect_account_type is integer, expected character varying or text']);
    expect(plan.changes.repair.stripe_customers).toEqual({ action: 'delete', rows: seeded.B.tables.stripe_customers });
    expect(plan.changes.repair.accounts).toEqual({ action: 'reset', rows: seeded.B.accountsWithAnyConnectColumn });
  });

  it('never repairs a table that another table references: the delete would reach rows it does not archive', async () => {
    await refusedByName(
      'F',
      [
        'CREATE TABLE customer_notes (id serial PRIMARY KEY, customer_id bigint REFERENCES stripe_customers (id) ON DELETE CASCADE, note text)',
        "INSERT INTO customer_notes (customer_id, note) SELECT id, 'vip' FROM stripe_customers",
      ],
      'customer_notes references stripe_customers',
    );
  });

  it('never repairs a table with a trigger of its own', async () => {
    const result = await refusedByName(
      'E',
      [
        'CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$',
        'CREATE TRIGGER customers_audit BEFORE DELETE ON stripe_customers FOR EACH ROW EXECUTE FUNCTION audit()',
      ],
      'stripe_customers has the trigger customers_audit',
    );
    expect(result.changes.repair.stripe_customers).toEqual({ action: 'delete', rows: seeded.E.tables.stripe_customers });
  });
});

// Random schema variations of every Hi.Events shape and random damage to the gate's tables, through the built
// CLI: every run ends in a documented exit that is not 70 (a bug), and the Hi.Events tables are unchanged,
// unless the gate reports `cleaned`; then `restore` gives them back exactly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generations } from '../fixtures/hievents/index.js';
import { json, runCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { LIVE_KEYS, TEST_KEYS } from '../support/gate.js';

/** Changes a real install may have had made to it (by hand, by a plugin, by a future release). */
const SCHEMA_VARIATIONS = [
  'ALTER TABLE stripe_customers DROP COLUMN stripe_account_id',
  'ALTER TABLE accounts DROP COLUMN stripe_connect_account_type',
  'ALTER TABLE stripe_customers DROP COLUMN email',
  'ALTER TABLE account_stripe_platforms DROP COLUMN deleted_at',
  'ALTER TABLE stripe_customers ADD COLUMN extra_notes json',
  "ALTER TABLE account_stripe_platforms ADD COLUMN extra_flags jsonb DEFAULT 'null'::jsonb",
  'ALTER TABLE accounts ADD COLUMN extra_score numeric DEFAULT 1.5',
  'ALTER TABLE stripe_customers ALTER COLUMN stripe_customer_id TYPE text',
  'ALTER TABLE stripe_customers ALTER COLUMN stripe_customer_id TYPE integer USING length(stripe_customer_id)',
  "ALTER TABLE accounts ALTER COLUMN stripe_account_id TYPE bytea USING convert_to(stripe_account_id, 'UTF8')",
  'ALTER TABLE accounts ALTER COLUMN stripe_connect_setup_complete TYPE integer USING stripe_connect_setup_complete::int',
  'ALTER TABLE account_stripe_platforms ALTER COLUMN account_id TYPE integer',
  'ALTER TABLE organizer_stripe_platforms ALTER COLUMN deleted_at TYPE date',
  'ALTER TABLE stripe_payments DROP COLUMN charge_id',
  'ALTER TABLE order_payment_platform_fees DROP COLUMN transaction_id',
  'ALTER TABLE order_refunds DROP COLUMN payment_provider',
  'DROP TABLE stripe_payouts',
  'DROP TABLE organizer_stripe_platforms',
  'ALTER TABLE stripe_customers RENAME TO stripe_customers_old; CREATE VIEW stripe_customers AS SELECT * FROM stripe_customers_old',
  'ALTER TABLE organizer_stripe_platforms ADD COLUMN history json[] DEFAULT ARRAY[\'{"a":  1}\'::json]',
  'ALTER TABLE accounts DROP CONSTRAINT accounts_pkey CASCADE',
  'CREATE RULE keep AS ON DELETE TO account_stripe_platforms DO INSTEAD NOTHING',
  'CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$; CREATE TRIGGER noop BEFORE DELETE ON stripe_customers FOR EACH ROW EXECUTE FUNCTION noop()',
  'ALTER TABLE order_refunds ALTER COLUMN payment_provider TYPE jsonb USING to_jsonb(payment_provider)',
  'CREATE TABLE stripe_terminal_readers (id serial PRIMARY KEY, platform_id bigint REFERENCES organizer_stripe_platforms (id))',
];

/** Damage to the gate's own tables, after a first run wrote them. */
const GATE_DAMAGE = [
  "UPDATE stripe_mode_gate.marker SET platforms = '[]'",
  `UPDATE stripe_mode_gate.marker SET platforms = '{"default": {"accountId": 42, "keyFingerprint": null}}'`,
  "ALTER TABLE stripe_mode_gate.marker DROP CONSTRAINT marker_stripe_mode_check; UPDATE stripe_mode_gate.marker SET stripe_mode = 'LIVE'",
  'ALTER TABLE stripe_mode_gate.marker DROP CONSTRAINT marker_pkey; INSERT INTO stripe_mode_gate.marker SELECT * FROM stripe_mode_gate.marker',
  'DELETE FROM stripe_mode_gate.marker',
  'ALTER TABLE stripe_mode_gate.run_log DROP COLUMN counts',
  'ALTER TABLE stripe_mode_gate.marker ALTER COLUMN saas_mode TYPE text',
  'DROP TABLE stripe_mode_gate.archive',
  'CREATE FUNCTION drop_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$; CREATE TRIGGER swallow BEFORE INSERT ON stripe_mode_gate.archive FOR EACH ROW EXECUTE FUNCTION drop_row()',
  'ALTER TABLE stripe_mode_gate.archive ALTER COLUMN raw TYPE text',
];

const DOCUMENTED = [0, 64, 65, 66, 78];

let db: TestDatabase | undefined;

/** Applies what applies to this shape (a missing table or column makes a variation moot, not a failure). */
async function apply(statements: string[]): Promise<void> {
  for (const sql of statements) await db!.query(sql).catch(() => undefined);
}

const hiEvents = async () => db!.checksums();

describe('random schema variations and damaged gate tables, through the CLI', () => {
  it('never exit 70, never a change but a restorable clean', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...generations),
        fc.subarray(SCHEMA_VARIATIONS, { maxLength: 3 }),
        fc.option(fc.constantFrom(...GATE_DAMAGE), { nil: undefined }),
        fc.record({ live: fc.boolean(), saas: fc.boolean(), clean: fc.boolean() }),
        async (shape, variations, damage, to) => {
          runs++;
          db = await freshDatabase(shape);
          const base = { DATABASE_URL: db.url };
          try {
            await apply(variations);
            const first = await runCli(['check'], { ...base, ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
            expect(DOCUMENTED, first.stderr).toContain(first.code);
            if (damage) await apply([damage]);

            const before = await hiEvents();
            const env = {
              ...base,
              ...(to.live ? LIVE_KEYS : TEST_KEYS),
              APP_SAAS_MODE_ENABLED: String(to.saas),
              STRIPE_GATE_ON_MISMATCH: to.clean ? 'clean' : 'refuse',
            };
            for (const command of ['plan', 'status']) {
              const run = await runCli([command, '--json'], env);
              expect(DOCUMENTED, `${command}: ${run.stderr}`).toContain(run.code);
            }
            const check = await runCli(['check', '--json'], env);
            expect(DOCUMENTED, check.stderr).toContain(check.code);
            if (check.code === 0 && json(check).decision === 'cleaned') {
              const restore = await runCli(['restore'], { ...base, ...TEST_KEYS });
              expect(restore.code, restore.stderr).toBe(0);
            }
            expect(await hiEvents()).toEqual(before);
          } finally {
            await db.close();
            db = undefined;
          }
        },
      ),
      { numRuns: 30 },
    );
    expect(runs).toBe(30);
  }, 120_000);
});

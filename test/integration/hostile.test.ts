// Databases that are not quite what Hi.Events' migrations leave: a clear refusal naming the cause, or a correct
// result; never data loss, never exit 70.
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { runRestore } from '../../src/core/restore.js';
import { seeded } from '../fixtures/hievents/index.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { adoptedDatabase, failure, gateContext, inProcessGate, LIVE_KEYS, TEST_KEYS } from '../support/gate.js';
import { failsUnchanged, refusedByName } from '../support/refusals.js';

let db: TestDatabase | undefined;

const { ctx, check, adoptTest, cleanToLive } = inProcessGate(() => db!.url);

describe('objects in the database cannot redirect the gate', () => {
  it('archives and restores the real rows when public shadows to_jsonb and jsonb_populate_record for a Stripe table', async () => {
    db = await freshDatabase('F');
    await adoptTest();
    const before = await db.checksums();
    await db.query(`CREATE FUNCTION public.to_jsonb(stripe_customers) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{"id": 0}'::jsonb $$`);
    await db.query(`CREATE FUNCTION public.jsonb_populate_record(stripe_customers, jsonb) RETURNS stripe_customers LANGUAGE sql AS $$ SELECT $1 $$`);
    expect(await cleanToLive()).toMatchObject({ decision: 'cleaned' });
    const archived = await db.query<{ email: string }>("SELECT old_row->>'email' AS email FROM stripe_mode_gate.archive WHERE table_name = 'stripe_customers'");
    expect(archived).toHaveLength(seeded.F.tables.stripe_customers);
    expect(archived.every((row) => row.email?.includes('@'))).toBe(true);
    await runRestore(await ctx(TEST_KEYS));
    await db.query('DROP FUNCTION public.to_jsonb(stripe_customers); DROP FUNCTION public.jsonb_populate_record(stripe_customers, jsonb)');
    expect(await db.checksums()).toEqual(before);
  });
});

describe('Stripe tables the gate may not write', () => {
  async function swapForView() {
    await db!.query('ALTER TABLE stripe_customers RENAME TO stripe_customers_data');
    await db!.query('CREATE VIEW stripe_customers AS SELECT * FROM stripe_customers_data');
  }

  it('a view with stale rows is refused by name before anything runs; an empty one does not stop a new install', async () => {
    db = await freshDatabase('E');
    await adoptTest();
    await swapForView();
    const before = await db.checksums();
    const result = await cleanToLive();
    expect(result).toMatchObject({ decision: 'refused-mismatch', exitCode: 65 });
    expect(result.message).toContain('stripe_customers is a view, not an ordinary table');
    expect(await db.checksums()).toEqual(before);

    await db.query('DROP SCHEMA stripe_mode_gate CASCADE; DELETE FROM stripe_customers_data; DELETE FROM account_stripe_platforms');
    await db.query('UPDATE accounts SET stripe_account_id = NULL, stripe_connect_account_type = NULL, stripe_connect_setup_complete = false');
    expect(await check(LIVE_KEYS)).toMatchObject({ decision: 'recorded', exitCode: 0 });
  });

  it('a partitioned table with a trigger on a partition is refused by name', async () => {
    await refusedByName(
      'E',
      [
        'ALTER TABLE stripe_customers RENAME TO stripe_customers_old',
        'CREATE TABLE stripe_customers (LIKE stripe_customers_old) PARTITION BY RANGE (id)',
        'CREATE TABLE stripe_customers_p1 PARTITION OF stripe_customers FOR VALUES FROM (0) TO (1000000)',
        'INSERT INTO stripe_customers SELECT * FROM stripe_customers_old',
        'CREATE FUNCTION keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$',
        'CREATE TRIGGER keep_rows BEFORE DELETE ON stripe_customers_p1 FOR EACH ROW EXECUTE FUNCTION keep()',
      ],
      'stripe_customers is a partitioned table, not an ordinary table',
    );
  });

  it('a rule on a Stripe table is refused by name', async () => {
    await refusedByName(
      'C',
      ['CREATE RULE keep_platforms AS ON DELETE TO account_stripe_platforms DO INSTEAD NOTHING'],
      'account_stripe_platforms has the rule keep_platforms',
    );
  });

  it('a table referencing an empty Stripe table (Stripe Terminal) lets a new install record and a repair of the others run', async () => {
    db = await freshDatabase('empty');
    await db.query(
      'CREATE TABLE organizer_stripe_platforms (id bigserial PRIMARY KEY, organizer_id bigint NOT NULL, stripe_account_id varchar(255), deleted_at timestamp)',
    );
    await db.query(
      'CREATE TABLE stripe_terminal_readers (id bigserial PRIMARY KEY, platform_id bigint REFERENCES organizer_stripe_platforms (id), stripe_reader_id varchar(255))',
    );
    await db.query(
      'CREATE TABLE stripe_customers (id bigserial PRIMARY KEY, name varchar NOT NULL, email varchar NOT NULL, stripe_customer_id varchar NOT NULL, stripe_account_id varchar, deleted_at timestamp)',
    );
    await db.query('CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$');
    await db.query('CREATE TRIGGER audit_customers AFTER INSERT ON stripe_customers FOR EACH ROW EXECUTE FUNCTION audit()');
    expect(await check(TEST_KEYS)).toMatchObject({ decision: 'recorded', exitCode: 0 });
    // Nothing stranded: the trigger on stripe_customers does not matter.
    expect(await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'true' })).toMatchObject({ decision: 'updated', exitCode: 0 });
    await db.query("INSERT INTO organizer_stripe_platforms (organizer_id, stripe_account_id) VALUES (1, 'acct_1TestTerminal01')");
    await db.query("INSERT INTO stripe_terminal_readers (platform_id, stripe_reader_id) SELECT id, 'tmr_TestReader01' FROM organizer_stripe_platforms");
    const before = await db.checksums();
    const result = await check({ ...LIVE_KEYS, APP_SAAS_MODE_ENABLED: 'true', STRIPE_GATE_ON_MISMATCH: 'clean' });
    expect(result).toMatchObject({ decision: 'refused-mismatch', exitCode: 65 });
    expect(result.message).toContain('stripe_terminal_readers references organizer_stripe_platforms');
    expect(await db.checksums()).toEqual(before);
  });
});

describe('restore is exact', () => {
  it("keeps a jsonb 'null' apart from SQL NULL and a json column's own text", async () => {
    db = await freshDatabase('E');
    await db.query('ALTER TABLE account_stripe_platforms ADD COLUMN notes json');
    await db.query(`UPDATE account_stripe_platforms SET stripe_account_details = 'null'::jsonb, notes = '{"b": 1,   "a": [1, 2],  "b": 2}' WHERE id = 1`);
    await db.query('UPDATE account_stripe_platforms SET stripe_account_details = NULL, notes = NULL WHERE id = 2');
    await adoptTest();
    const before = await db.checksums();
    await cleanToLive();
    await runRestore(await ctx(TEST_KEYS));
    expect(await db.checksums()).toEqual(before);
    expect(
      await db.query(
        'SELECT id, stripe_account_details IS NULL AS sql_null, notes::text AS notes FROM account_stripe_platforms WHERE id IN (1, 2) ORDER BY id',
      ),
    ).toEqual([
      { id: '1', sql_null: false, notes: '{"b": 1,   "a": [1, 2],  "b": 2}' },
      { id: '2', sql_null: true, notes: null },
    ]);
  });

  it('refuses to put Connect values back into accounts once Hi.Events keeps them in account_stripe_platforms (upgraded since)', async () => {
    db = await freshDatabase('B');
    await adoptTest();
    await cleanToLive();
    // What the v1.2 migration creates; restore must not report success while the backend reads this table.
    await db.query(`CREATE TABLE account_stripe_platforms (id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      stripe_connect_account_type varchar(255), stripe_connect_platform varchar(2), stripe_account_id varchar(255) UNIQUE,
      stripe_setup_completed_at timestamp(0), stripe_account_details jsonb, created_at timestamp(0), updated_at timestamp(0), deleted_at timestamp(0))`);
    await failsUnchanged(db, async () => runRestore(await ctx(TEST_KEYS)), 'before Hi.Events kept that data in account_stripe_platforms');
  });

  it('refuses (65) when a column was narrowed since the clean', async () => {
    db = await freshDatabase('E');
    await adoptTest();
    await cleanToLive();
    await db.query('ALTER TABLE stripe_customers ALTER COLUMN email TYPE varchar(8)');
    const error = await failure(runRestore(await ctx(TEST_KEYS)));
    expect(error.exitCode).toBe(65);
    expect(error.message).toContain('cannot go back as they are (value too long for type character varying(8))');
    expect(await db.query('SELECT count(*)::int AS n FROM stripe_customers')).toEqual([{ n: 0 }]);
  });

  it('refuses (65) an archive holding rows the gate never wrote', async () => {
    db = await freshDatabase('E');
    await adoptTest();
    await cleanToLive();
    await db.query("UPDATE stripe_mode_gate.archive SET old_row = '[1, 2]' WHERE table_name = 'stripe_customers' AND row_id = 3");
    await failsUnchanged(
      db,
      async () => runRestore(await ctx(TEST_KEYS)),
      'stripe_customers id 3: the archived row is not a row the gate archived (damaged archive)',
    );
  });
});

describe('every state of the database is a documented exit, naming the cause', () => {
  it('read-only database: a run that must write is 78 naming the primary; a match still passes', async () => {
    db = await freshDatabase('E');
    await db.query(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`);
    const error = await failure(check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' }));
    expect(error.exitCode).toBe(78);
    expect(error.message).toContain('is read-only');
    expect(error.message).toContain('at the primary');
    await db.query(`ALTER DATABASE ${db.name} RESET default_transaction_read_only`);
    await adoptTest();
    await db.query(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`);
    expect(await check(TEST_KEYS)).toMatchObject({ decision: 'match', exitCode: 0 });
  });
});

describe('what else could act on a repair', () => {
  it('a trigger on an empty Stripe table never fires: only tables with stale rows are written', async () => {
    db = await adoptedDatabase('F', [
      'DELETE FROM organizer_stripe_platforms',
      'CREATE FUNCTION wipe() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM public.webhooks; RETURN NULL; END $$',
      'CREATE TRIGGER wipe_webhooks AFTER DELETE ON organizer_stripe_platforms FOR EACH STATEMENT EXECUTE FUNCTION wipe()',
    ]);
    const result = await cleanToLive();
    expect(result).toMatchObject({ decision: 'cleaned' });
    expect(result.changes.repair.organizer_stripe_platforms).toBeUndefined();
    expect(await db.query('SELECT count(*)::int AS n FROM webhooks')).toEqual([{ n: 1 }]);
  });

  it('row-level security hiding rows from the role is 78, never a silent undercount', async () => {
    db = await adoptedDatabase('E', [
      "CREATE ROLE rls_app LOGIN PASSWORD 'rls-app-password-1'",
      'GRANT USAGE ON SCHEMA public, stripe_mode_gate TO rls_app; GRANT ALL ON ALL TABLES IN SCHEMA public, stripe_mode_gate TO rls_app',
      'ALTER TABLE stripe_customers ENABLE ROW LEVEL SECURITY',
      'CREATE POLICY none_visible ON stripe_customers USING (false)',
    ]);
    const url = new URL(db.url);
    url.username = 'rls_app';
    url.password = 'rls-app-password-1';
    try {
      const before = await db.checksums();
      const error = await failure(runCheck((await gateContext({ DATABASE_URL: url.toString(), ...LIVE_KEYS })).ctx));
      expect(error.exitCode).toBe(78);
      expect(error.message).toContain('row-level security hides rows');
      expect(await db.checksums()).toEqual(before);
    } finally {
      await db.query('DROP OWNED BY rls_app; DROP ROLE rls_app');
    }
  });

  it('a table whose ids are not unique is refused by name: its rows could not be told apart', async () => {
    await refusedByName('E', ['ALTER TABLE accounts DROP CONSTRAINT accounts_pkey CASCADE'], 'accounts has no unique, not-null id');
  });

  it('a foreign key onto the Connect columns of accounts is refused by name: the reset would reach it', async () => {
    await refusedByName(
      'B',
      [
        'ALTER TABLE accounts ADD CONSTRAINT accounts_stripe_account_key UNIQUE (stripe_account_id)',
        'CREATE TABLE payout_notes (id serial PRIMARY KEY, stripe_account_id varchar REFERENCES accounts (stripe_account_id) ON UPDATE CASCADE)',
        'INSERT INTO payout_notes (stripe_account_id) SELECT stripe_account_id FROM accounts WHERE stripe_account_id IS NOT NULL',
      ],
      'payout_notes references accounts',
    );
  });

  it('a Stripe table locked by another session past the lock wait is 75, with nothing changed', async () => {
    db = await freshDatabase('E');
    await adoptTest();
    const pg = await import('pg');
    const holder = new pg.default.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN; LOCK TABLE stripe_customers IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const error = await failure(check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean', STRIPE_GATE_LOCK_WAIT_SECONDS: '1' }));
      expect(Date.now() - started).toBeLessThan(5000);
      expect(error.exitCode).toBe(75);
      expect(error.message).toContain('stayed locked by another session');
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(await db.query('SELECT count(*)::int AS n FROM stripe_customers')).toEqual([{ n: 6 }]);
  });
});

describe('restore is exact for every kind of column', () => {
  it('json arrays, domains over jsonb, and odd column names, whatever standard_conforming_strings says', async () => {
    db = await freshDatabase('F');
    await db.query(`ALTER DATABASE ${db.name} SET standard_conforming_strings = off`);
    await db.query('CREATE DOMAIN details AS jsonb');
    await db.query(`ALTER TABLE organizer_stripe_platforms ADD COLUMN history json[], ADD COLUMN extra details, ADD COLUMN "j\\'x" json`);
    await db.query(`UPDATE organizer_stripe_platforms SET history = ARRAY['{"b":1,  "b":2}'::json], extra = 'null', "j\\'x" = '{ "a" : 1 }'`);
    await adoptTest();
    const before = await db.checksums();
    await cleanToLive();
    await runRestore(await ctx(TEST_KEYS));
    expect(await db.checksums()).toEqual(before);
    expect(await db.query('SELECT count(*)::int AS n FROM organizer_stripe_platforms WHERE extra IS NULL')).toEqual([{ n: 0 }]);
  });
});

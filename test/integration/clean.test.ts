import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { runRestore } from '../../src/core/restore.js';
import { generations, seeded, type Generation } from '../fixtures/hievents/index.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { gateContext, LIVE_KEYS, TEST_KEYS } from '../support/gate.js';

let db: TestDatabase | undefined;

const CONNECT_COLUMNS = ['stripe_account_id', 'stripe_connect_account_type', 'stripe_connect_setup_complete'];
const REPAIRED = ['stripe_customers', 'account_stripe_platforms', 'organizer_stripe_platforms', 'accounts'];

async function ctx(env: Record<string, string>) {
  return (await gateContext({ DATABASE_URL: db!.url, ...env })).ctx;
}
const check = async (env: Record<string, string>) => runCheck(await ctx(env));
const count = async (sql: string) => Number((await db!.query<{ n: string }>(sql))[0].n);
const marker = async () => (await db!.query<{ stripe_mode: string; saas_mode: boolean }>('SELECT stripe_mode, saas_mode FROM stripe_mode_gate.marker'))[0];

function without<T extends Record<string, string>>(sums: T, tables: string[]) {
  return Object.fromEntries(Object.entries(sums).filter(([t]) => !tables.includes(t)));
}

/** Tables the clean may change get compared without the Connect columns of accounts. */
async function untouchedParts() {
  return { others: without(await db!.checksums(), REPAIRED), accounts: await db!.checksumWithout('accounts', CONNECT_COLUMNS) };
}

describe.each(generations)('clean and restore on a Hi.Events %s database', (generation: Generation) => {
  const s = seeded[generation];
  const has = (table: string) => table in s.tables;

  it('test -> live: deletes customers and platform rows, resets Connect columns, archives all, keeps every other byte', async () => {
    db = await freshDatabase(generation);
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const before = await untouchedParts();
    const result = await check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' });
    expect(result).toMatchObject({ decision: 'cleaned', exitCode: 0 });
    expect(result.changes.repair.stripe_customers).toEqual({ action: 'delete', rows: s.tables.stripe_customers });
    expect(result.changes.repair.accounts).toEqual({ action: 'reset', rows: s.accountsWithAnyConnectColumn });
    expect(result.message).toContain('Repaired the stale ids');

    expect(await count('SELECT count(*) AS n FROM stripe_customers')).toBe(0);
    if (has('account_stripe_platforms')) expect(await count('SELECT count(*) AS n FROM account_stripe_platforms')).toBe(0);
    if (has('organizer_stripe_platforms')) expect(await count('SELECT count(*) AS n FROM organizer_stripe_platforms')).toBe(0);
    expect(await count('SELECT count(*) AS n FROM accounts WHERE stripe_account_id IS NOT NULL OR stripe_connect_setup_complete')).toBe(0);
    expect(await count('SELECT count(*) AS n FROM accounts')).toBe(s.tables.accounts);
    expect(await untouchedParts()).toEqual(before);

    const archived =
      s.tables.stripe_customers + (s.tables.account_stripe_platforms ?? 0) + (s.tables.organizer_stripe_platforms ?? 0) + s.accountsWithAnyConnectColumn;
    expect(await count('SELECT count(*) AS n FROM stripe_mode_gate.archive')).toBe(archived);
    expect(await marker()).toEqual({ stripe_mode: 'live', saas_mode: false });
    expect(await check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' })).toMatchObject({ decision: 'match' });
  });

  it('SaaS on -> off: removes only Connect ids and the customers inside connected accounts; restore puts them back', async () => {
    db = await freshDatabase(generation);
    await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'true', STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const before = await db.checksums();
    const untouched = await untouchedParts();
    const platformCustomers = async () =>
      s.customersInConnectedAccounts === null ? null : await db!.query('SELECT * FROM stripe_customers WHERE stripe_account_id IS NULL ORDER BY id');
    const platformBefore = await platformCustomers();

    const result = await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'false', STRIPE_GATE_ON_MISMATCH: 'clean' });
    expect(result).toMatchObject({ decision: 'cleaned', exitCode: 0 });
    // Only the marker's configuration had SaaS on; the backend now runs without it, so nobody re-onboards.
    expect(result.message).not.toContain('Organizers must connect Stripe again');
    // v0.8 looked customers up by email alone: every customer row was stale there.
    const left = s.customersInConnectedAccounts === null ? 0 : s.tables.stripe_customers - s.customersInConnectedAccounts;
    expect(await count('SELECT count(*) AS n FROM stripe_customers')).toBe(left);
    expect(await platformCustomers()).toEqual(platformBefore);
    if (has('account_stripe_platforms')) expect(await count('SELECT count(*) AS n FROM account_stripe_platforms')).toBe(0);
    expect(await count('SELECT count(*) AS n FROM accounts WHERE stripe_account_id IS NOT NULL OR stripe_connect_setup_complete')).toBe(0);
    expect(await untouchedParts()).toEqual(untouched);
    expect(await marker()).toEqual({ stripe_mode: 'test', saas_mode: false });
    expect(await check({ ...TEST_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' })).toMatchObject({ decision: 'match' });

    await runRestore(await ctx({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'true' }));
    expect(await db.checksums()).toEqual(before);
  });

  it('in SaaS mode, a switch to live keys tells that organizers must connect Stripe again', async () => {
    db = await freshDatabase(generation);
    await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'true', STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const result = await check({ ...LIVE_KEYS, APP_SAAS_MODE_ENABLED: 'true', STRIPE_GATE_ON_MISMATCH: 'clean' });
    expect(result).toMatchObject({ decision: 'cleaned' });
    expect(result.message).toContain('Organizers must connect Stripe again');
  });

  it('restore under the old configuration gives back tables identical to before the clean', async () => {
    db = await freshDatabase(generation);
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const before = await db.checksums();
    await check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' });
    expect(await db.checksums()).not.toEqual(before);

    await expect(runRestore(await ctx(LIVE_KEYS))).rejects.toMatchObject({ exitCode: 65 });
    const restored = await runRestore(await ctx(TEST_KEYS));
    expect(restored.rows.stripe_customers).toBe(s.tables.stripe_customers);
    expect(await db.checksums()).toEqual(before);
    expect(await marker()).toEqual({ stripe_mode: 'test', saas_mode: false });
    expect(await check(TEST_KEYS)).toMatchObject({ decision: 'match' });
    await expect(runRestore(await ctx(TEST_KEYS))).rejects.toMatchObject({ exitCode: 64 });
  });
});

describe('restore refuses rather than mix or collide', () => {
  async function cleanedToLive() {
    db = await freshDatabase('E');
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    await check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' });
    const [archived] = await db.query<{ email: string; id: string }>(
      "SELECT old_row->>'email' AS email, row_id::text AS id FROM stripe_mode_gate.archive WHERE table_name = 'stripe_customers' AND old_row->>'stripe_account_id' IS NULL AND old_row->>'deleted_at' IS NULL ORDER BY row_id LIMIT 1",
    );
    return archived;
  }
  const addCustomer = (email: string, id: string) =>
    db!.query("INSERT INTO stripe_customers (name, email, stripe_customer_id, created_at, updated_at) VALUES ('New', $1, $2, now(), now())", [email, id]);

  it('refuses to mix ids written under the live marker with the restored test ids, and says how to go on', async () => {
    await cleanedToLive();
    await addCustomer('someone.new@example.com', 'cus_LiveNew0001');
    const before = await db!.checksums();
    const error = await runRestore(await ctx(TEST_KEYS)).catch((e: Error & { exitCode: number }) => e);
    expect(error).toMatchObject({ exitCode: 65 });
    expect((error as Error).message).toContain('got Stripe ids under live keys, SaaS mode off: 1 Stripe customers (stripe_customers)');
    expect((error as Error).message).toContain('STRIPE_GATE_ON_MISMATCH=clean');
    expect(await db!.checksums()).toEqual(before);

    // As the message says: under test keys, a clean archives the live ids; then the restore goes through.
    expect(await check({ ...TEST_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' })).toMatchObject({ decision: 'cleaned' });
    const restored = await runRestore(await ctx(TEST_KEYS), '2');
    expect(restored.rows.stripe_customers).toBe(seeded.E.tables.stripe_customers);
    expect(await count("SELECT count(*) AS n FROM stripe_customers WHERE stripe_customer_id = 'cus_LiveNew0001'")).toBe(0);
  });

  it('lists a customer created since with the same email, and changes nothing', async () => {
    const archived = await cleanedToLive();
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' });
    await addCustomer(archived.email, 'cus_TestAgain0001');
    const before = await db!.checksums();
    const error = await runRestore(await ctx(TEST_KEYS), '2').catch((e: Error & { exitCode: number }) => e);
    expect(error).toMatchObject({ exitCode: 65 });
    expect((error as Error).message).toContain(`stripe_customers id ${archived.id}: a customer with the same email was created since`);
    expect(await db!.checksums()).toEqual(before);
    expect(await marker()).toEqual({ stripe_mode: 'test', saas_mode: false });
  });
});

describe('restore after the schema moved on', () => {
  it('puts rows back into a table that gained a generated column and a column with a default since the clean', async () => {
    db = await freshDatabase('F');
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const before = await db.query('SELECT * FROM stripe_customers ORDER BY id');
    await check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' });
    await db.query(
      "ALTER TABLE stripe_customers ADD COLUMN email_lower text GENERATED ALWAYS AS (lower(email)) STORED, ADD COLUMN source text NOT NULL DEFAULT 'web'",
    );
    await runRestore(await ctx(TEST_KEYS));
    const after = await db.query<Record<string, unknown>>('SELECT * FROM stripe_customers ORDER BY id');
    expect(after.map(({ email_lower: _e, source: _s, ...row }) => row)).toEqual(before);
    expect(after.every((row) => row.source === 'web' && row.email_lower === String(row.email).toLowerCase())).toBe(true);
  });

  it('refuses (65), not crashes, when a row cannot go back because its parent is gone', async () => {
    db = await freshDatabase('E');
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    await check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' });
    await db.query('ALTER TABLE accounts DISABLE TRIGGER ALL');
    await db.query('DELETE FROM accounts WHERE id = 2');
    await db.query('ALTER TABLE accounts ENABLE TRIGGER ALL');
    const error = await runRestore(await ctx(TEST_KEYS)).catch((e: Error & { exitCode: number }) => e);
    expect(error).toMatchObject({ exitCode: 65 });
    expect((error as Error).message).toMatch(/accounts id 2: the account no longer exists|cannot go back/);
  });
});

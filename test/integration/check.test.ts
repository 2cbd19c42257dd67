import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { runStatus } from '../../src/core/status.js';
import { generations, seeded, type Generation } from '../fixtures/hievents/index.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { gateContext, LIVE_KEYS, secretsUsed, TEST_KEYS } from '../support/gate.js';

let db: TestDatabase | undefined;

async function check(env: Record<string, string | undefined>) {
  const gate = await gateContext({ DATABASE_URL: db!.url, ...env });
  const result = await runCheck(gate.ctx);
  const text = gate.output.join('\n');
  for (const secret of secretsUsed()) expect(text).not.toContain(secret);
  return { result, gate };
}

async function marker() {
  const rows = await db!.query<{ stripe_mode: string; saas_mode: boolean; recorded_at: Date }>(
    'SELECT stripe_mode, saas_mode, recorded_at FROM stripe_mode_gate.marker',
  );
  return rows[0] ?? null;
}

async function runLog() {
  return db!.query<{ command: string; decision: string }>('SELECT command, decision FROM stripe_mode_gate.run_log ORDER BY id');
}

/** What a test -> live switch strands, per generation (docs/hievents.md, "The tables a repair changes"). */
function staleOnModeChange(g: Generation): Record<string, { action: string; rows: number }> {
  const s = seeded[g];
  const expected: Record<string, { action: string; rows: number }> = {
    stripe_customers: { action: 'delete', rows: s.tables.stripe_customers },
  };
  if ('account_stripe_platforms' in s.tables) expected.account_stripe_platforms = { action: 'delete', rows: s.tables.account_stripe_platforms! };
  if ('organizer_stripe_platforms' in s.tables) expected.organizer_stripe_platforms = { action: 'delete', rows: s.tables.organizer_stripe_platforms! };
  expected.accounts = { action: 'reset', rows: s.accountsWithAnyConnectColumn };
  return expected;
}

function staleOnSaasOff(g: Generation): Record<string, { action: string; rows: number }> {
  const s = seeded[g];
  // Before v1.0 customers were found by email alone: every customer row is stale.
  return { ...staleOnModeChange(g), stripe_customers: { action: 'delete', rows: s.customersInConnectedAccounts ?? s.tables.stripe_customers } };
}

describe.each(generations)('check on a Hi.Events %s database seeded with test-mode ids', (generation) => {
  it('refuses ids of unknown origin (66), names what it found and how to pass, and changes nothing', async () => {
    db = await freshDatabase(generation);
    const before = await db.checksums();
    const { result } = await check(TEST_KEYS);
    expect(result.decision).toBe('refused-unknown');
    expect(result.exitCode).toBe(66);
    expect(result.message).toContain(`${seeded[generation].tables.stripe_customers} Stripe customers (stripe_customers)`);
    expect(result.message).toContain('stripe-mode-gate adopt --mode test --saas false');
    expect(result.message).toContain('STRIPE_GATE_ON_UNKNOWN=adopt');
    expect(await db.checksums()).toEqual(before);
    expect(await marker()).toBeNull();
    expect(await runLog()).toEqual([{ command: 'check', decision: 'refused-unknown' }]);
  });

  it('status names the shape and counts every table of it', async () => {
    db = await freshDatabase(generation);
    const status = await runStatus((await gateContext({ DATABASE_URL: db.url, ...TEST_KEYS })).ctx);
    expect(status.shape?.shape).toBe(generation);
    expect(status.unexpected).toEqual([]);
    expect(status.stripeIds.stripe_customers).toBe(seeded[generation].tables.stripe_customers);
    expect(Object.keys(status.stripeIds)).toEqual(Object.keys(staleOnModeChange(generation)));
    const history = ['stripe_payments', 'order_refunds', 'order_payment_platform_fees', 'stripe_payouts'].filter((t) => t in seeded[generation].tables);
    expect(Object.keys(status.history).sort()).toEqual(history.sort());
  });

  it('adopts with ON_UNKNOWN=adopt, then matches without writing anything', async () => {
    db = await freshDatabase(generation);
    const before = await db.checksums();
    const first = await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    expect(first.result).toMatchObject({ decision: 'adopted', exitCode: 0 });
    const recorded = await marker();
    expect(recorded).toMatchObject({ stripe_mode: 'test', saas_mode: false });

    const second = await check(TEST_KEYS);
    expect(second.result).toMatchObject({ decision: 'match', exitCode: 0 });
    expect((await marker())!.recorded_at).toEqual(recorded!.recorded_at);
    expect(await runLog()).toEqual([{ command: 'check', decision: 'adopted' }]);
    expect(await db.checksums()).toEqual(before);
  });

  it('refuses a switch to live keys (65), counting every stale row and the history left', async () => {
    db = await freshDatabase(generation);
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const before = await db.checksums();
    const { result, gate } = await check(LIVE_KEYS);
    expect(result).toMatchObject({ decision: 'refused-mismatch', exitCode: 65 });
    expect(result.changes.repair).toEqual(staleOnModeChange(generation));
    expect(result.changes.history.stripe_payments).toBe(seeded[generation].tables.stripe_payments);
    expect(result.message).toContain('created under test keys, SaaS mode off');
    expect(result.message).toContain('configured with live keys, SaaS mode off');
    expect(result.message).toContain('set STRIPE_GATE_ON_MISMATCH=clean');
    expect(gate.logs().every((line) => line.stripeMode === 'live')).toBe(true);
    expect(await db.checksums()).toEqual(before);
    expect(await marker()).toMatchObject({ stripe_mode: 'test' });
    expect((await runLog()).at(-1)).toEqual({ command: 'check', decision: 'refused-mismatch' });
  });

  it('refuses SaaS on -> off (65), counting only the Connect ids and the customers inside connected accounts', async () => {
    db = await freshDatabase(generation);
    await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'true', STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const before = await db.checksums();
    const { result } = await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'false' });
    expect(result).toMatchObject({ decision: 'refused-mismatch', exitCode: 65 });
    expect(result.changes.repair).toEqual(staleOnSaasOff(generation));
    expect(await db.checksums()).toEqual(before);
  });

  it("reads APP_SAAS_MODE_ENABLED=off as Hi.Events does (on), so turning SaaS 'off' that way changes nothing", async () => {
    db = await freshDatabase(generation);
    await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'true', STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const { result } = await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'off' });
    expect(result.decision).toBe('match');
  });

  it('updates the marker when SaaS mode is turned on', async () => {
    db = await freshDatabase(generation);
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const before = await db.checksums();
    const { result } = await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: '1' });
    expect(result).toMatchObject({ decision: 'updated', exitCode: 0 });
    expect(await marker()).toMatchObject({ stripe_mode: 'test', saas_mode: true });
    expect(await db.checksums()).toEqual(before);
  });

  it('records the configuration when the tables hold no Stripe ids yet, and a switch then strands nothing', async () => {
    db = await freshDatabase(generation);
    const tables = await db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    await db.query(`TRUNCATE ${tables.map((t) => `public."${t.table_name}"`).join(', ')} RESTART IDENTITY CASCADE`);
    expect((await check(TEST_KEYS)).result).toMatchObject({ decision: 'recorded', exitCode: 0 });
    expect(await marker()).toMatchObject({ stripe_mode: 'test', saas_mode: false });
    expect((await check(LIVE_KEYS)).result).toMatchObject({ decision: 'updated', exitCode: 0 });
    expect(await marker()).toMatchObject({ stripe_mode: 'live' });
  });
});

describe('check before the backend has migrated', () => {
  it('records the configuration in a database without Hi.Events tables', async () => {
    db = await freshDatabase('empty');
    const { result } = await check({ ...LIVE_KEYS, APP_SAAS_MODE_ENABLED: 'true' });
    expect(result).toMatchObject({ decision: 'recorded', exitCode: 0, changes: { repair: {}, history: {} } });
    expect(await marker()).toMatchObject({ stripe_mode: 'live', saas_mode: true });
    expect(await runLog()).toEqual([{ command: 'check', decision: 'recorded' }]);
  });

  it('keeps its tables in STRIPE_GATE_SCHEMA', async () => {
    db = await freshDatabase('empty');
    await check({ ...TEST_KEYS, STRIPE_GATE_SCHEMA: 'Gate_Custom' });
    const rows = await db.query<{ stripe_mode: string }>('SELECT stripe_mode FROM "Gate_Custom".marker');
    expect(rows).toEqual([{ stripe_mode: 'test' }]);
    const schemas = await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'stripe_mode_gate'");
    expect(schemas).toEqual([]);
  });
});

describe('check without a Stripe key', () => {
  it('skips without touching the database, even one that cannot be reached', async () => {
    const gate = await gateContext({ DATABASE_URL: 'postgresql://u:p@127.0.0.1:1/none', STRIPE_GATE_DB_WAIT_SECONDS: '0' });
    const result = await runCheck(gate.ctx);
    expect(result).toMatchObject({ decision: 'skipped', exitCode: 0 });
  });
});

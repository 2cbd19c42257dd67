// After a repair, a backend or worker that still ran with the old keys (idle while the repair held its locks)
// may write ids of the old configuration right after the commit. Until the settle time has passed, each
// start asks Stripe about the rows written since; what Stripe does not know is refused, or repaired.
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { runRestore } from '../../src/core/restore.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.js';
import { gateContext, LIVE_KEYS, TEST_KEYS } from '../support/gate.js';

const ACCOUNT = 'acct_1GateLatePlatform';
const CA_ACCOUNT = 'acct_1GateLateCanada';
const CA_KEYS = { STRIPE_CA_SECRET_KEY: 'sk_live_51GateLateCanadaKey000000', STRIPE_CA_PUBLIC_KEY: 'pk_live_51GateLateCanadaKey000000' };

let db: TestDatabase | undefined;
let stripe: FakeStripe;
beforeEach(async () => {
  stripe = await startFakeStripe({
    keys: { [TEST_KEYS.STRIPE_SECRET_KEY]: ACCOUNT, [LIVE_KEYS.STRIPE_SECRET_KEY]: ACCOUNT, [CA_KEYS.STRIPE_CA_SECRET_KEY]: CA_ACCOUNT },
    customers: {
      ...Object.fromEntries(Array.from({ length: 12 }, (_, n) => [`cus_LateMany${n + 1}`, { account: ACCOUNT, mode: 'test' as const }])),
      cus_CanadaLive1: { account: CA_ACCOUNT, mode: 'live' },
      cus_LateOld1: { account: ACCOUNT, mode: 'test' },
      cus_LateOld2: { account: ACCOUNT, mode: 'test' },
      cus_NewLive1: { account: ACCOUNT, mode: 'live' },
      cus_NewLive2: { account: ACCOUNT, mode: 'live' },
    },
    connected: { acct_1LateTestConn: { platform: ACCOUNT, mode: 'test' } },
  });
});

const stripeOn = () => ({ STRIPE_GATE_STRIPE_API: 'auto', STRIPE_GATE_STRIPE_API_URL: stripe.url });
async function check(env: Record<string, string>) {
  const context = await gateContext({ DATABASE_URL: db!.url, ...stripeOn(), ...env });
  const result = await runCheck(context.ctx);
  return { ...result, logs: context.logs() };
}
const customers = async (like: string) =>
  Number((await db!.query<{ n: string }>('SELECT count(*) AS n FROM stripe_customers WHERE stripe_customer_id LIKE $1', [like]))[0].n);
const unchecked = async () => (await db!.query<{ unchecked: unknown }>('SELECT unchecked FROM stripe_mode_gate.marker'))[0].unchecked;
const customerRequests = () => stripe.requests.filter((r) => r.path.startsWith('/v1/customers/')).length;

/** A client connected before the repair, as a backend with the old keys is; it writes when told. */
async function connectedClient() {
  const client = new pg.Client({ connectionString: db!.url, application_name: 'hi-events-old-backend' });
  client.on('error', () => undefined); // ended by the database's teardown when a test fails first
  await client.connect();
  return {
    insert: (id: string) =>
      client.query("INSERT INTO stripe_customers (name, email, stripe_customer_id, created_at, updated_at) VALUES ('Late', $1, $1, now(), now())", [id]),
    end: () => client.end(),
  };
}

/** Shape E with test keys adopted, then switched to live keys with a repair. */
async function cleanedToLive(shape: 'B' | 'E' = 'E', live: Record<string, string> = LIVE_KEYS) {
  db = await freshDatabase(shape);
  expect(await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt', STRIPE_GATE_STRIPE_API: 'off' })).toMatchObject({ decision: 'adopted' });
  const old = await connectedClient();
  expect(await check({ ...live, STRIPE_GATE_ON_MISMATCH: 'clean' })).toMatchObject({ decision: 'cleaned' });
  return old;
}

describe('writes after a repair', () => {
  it('ids of the old mode written after the commit are refused, named with what Stripe said; nothing is changed', async () => {
    const old = await cleanedToLive();
    await old.insert('cus_LateOld1');
    await old.insert('cus_NewLive1'); // the new backend writes too: its ids are valid
    await old.insert('cus_LateOld2');
    await old.end();
    const before = await db!.checksums();

    const refused = await check(LIVE_KEYS);
    expect(refused).toMatchObject({ decision: 'refused-mismatch', exitCode: 65 });
    expect(refused.message).toMatch(
      /^Refused: after run #\d+ switched from test keys, SaaS mode off to live keys .*, rows were written with ids that Stripe does not know under the configured keys/,
    );
    expect(refused.message).toContain("cus_LateOld1: No such customer: 'cus_LateOld1'; a similar object exists in test mode");
    expect(refused.message).toContain('cus_LateOld2');
    expect(refused.message).not.toContain('cus_NewLive1');
    expect(refused.message).toContain('STRIPE_GATE_ON_MISMATCH=clean');
    expect(refused.lateWrites).toMatchObject({ written: 3, asked: 3 });
    expect(refused.lateWrites!.stale.map((r) => r.id)).toEqual(['cus_LateOld1', 'cus_LateOld2']);
    expect(await db!.checksums()).toEqual(before);
    expect(await unchecked()).not.toBeNull();
  });

  it('with STRIPE_GATE_ON_MISMATCH=clean exactly those rows are repaired and archived; restore puts them back under test keys', async () => {
    const old = await cleanedToLive();
    await old.insert('cus_LateOld1');
    await old.insert('cus_NewLive1');
    await old.end();

    const repaired = await check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' });
    expect(repaired).toMatchObject({ decision: 'cleaned', changes: { repair: { stripe_customers: { action: 'delete', rows: 1 } }, history: {} } });
    expect(repaired.message).toContain('Repaired those rows: 1 Stripe customers (stripe_customers)');
    expect(await customers('cus_LateOld%')).toBe(0);
    expect(await customers('cus_NewLive%')).toBe(1);
    const archived = await db!.query<{ id: string }>(
      "SELECT old_row->>'stripe_customer_id' AS id FROM stripe_mode_gate.archive WHERE run_id = (SELECT max(run_id) FROM stripe_mode_gate.archive)",
    );
    expect(archived).toEqual([{ id: 'cus_LateOld1' }]);

    // Nothing written since: the check is done, and a later start asks Stripe about nothing.
    expect(await check(LIVE_KEYS)).toMatchObject({ decision: 'match' });
    expect(await unchecked()).toBeNull();
    const asked = customerRequests();
    expect(await check(LIVE_KEYS)).toMatchObject({ decision: 'match' });
    expect(customerRequests()).toBe(asked);

    // The late rows' run belongs to the keys they came from: once nothing of live mode is left, test keys restore it.
    const runs = await db!.query<{ id: string; mode: string }>(
      "SELECT id, marker_before->>'stripeMode' AS mode FROM stripe_mode_gate.run_log WHERE decision = 'cleaned' ORDER BY id DESC LIMIT 1",
    );
    expect(runs[0].mode).toBe('test');
    await db!.query("DELETE FROM stripe_customers WHERE stripe_customer_id LIKE 'cus_NewLive%'");
    const { ctx } = await gateContext({ DATABASE_URL: db!.url, ...TEST_KEYS });
    await runRestore(ctx, runs[0].id);
    expect(await customers('cus_LateOld%')).toBe(1);
  });

  it('valid ids written after the repair pass; the check ends once the settle time is over', async () => {
    const old = await cleanedToLive();
    await old.insert('cus_NewLive1');
    await old.end();
    expect(await check({ ...LIVE_KEYS, STRIPE_GATE_SETTLE_SECONDS: '300' })).toMatchObject({
      decision: 'match',
      lateWrites: { written: 1, asked: 1, stale: [] },
    });
    expect(await unchecked()).not.toBeNull();
    expect(await check({ ...LIVE_KEYS, STRIPE_GATE_SETTLE_SECONDS: '0' })).toMatchObject({ decision: 'match' });
    expect(await unchecked()).toBeNull();
    const asked = customerRequests();
    const after = await check({ ...LIVE_KEYS, STRIPE_GATE_SETTLE_SECONDS: '0' });
    expect(after.lateWrites).toBeUndefined();
    expect(customerRequests()).toBe(asked);
  });

  it('an updated row counts as written; Stripe away: a warning, and the check goes on at the next start', async () => {
    // Before v1.2 the account row holds its connected account: the repair reset it, and the old backend connects
    // the organizer again, in test mode.
    const old = await cleanedToLive('B');
    await old.end();
    await db!.query("UPDATE accounts SET stripe_account_id = 'acct_1LateTestConn' WHERE id = (SELECT min(id) FROM accounts)");
    stripe.behave({ failWith: 503 });
    const away = await check(LIVE_KEYS);
    expect(away).toMatchObject({ decision: 'match', exitCode: 0 });
    expect(away.message).toContain('Warning: 1 rows with Stripe ids were written after run #');
    expect(away.logs.some((l) => l.level === 40 && String(l.msg).includes('cannot be checked'))).toBe(true);
    expect(await unchecked()).not.toBeNull();
    stripe.behave({});
    expect(await check(LIVE_KEYS)).toMatchObject({ decision: 'refused-mismatch', lateWrites: { stale: [{ table: 'accounts', id: 'acct_1LateTestConn' }] } });
  });

  it('with STRIPE_GATE_STRIPE_API=off the rows written cannot be checked: a warning once the settle time is over, then the check ends', async () => {
    const old = await cleanedToLive();
    await old.insert('cus_LateOld1');
    await old.end();
    const off = await check({ ...LIVE_KEYS, STRIPE_GATE_STRIPE_API: 'off' });
    expect(off).toMatchObject({ decision: 'match' });
    expect(off.message).toContain(
      'STRIPE_GATE_STRIPE_API=off: whether a backend or worker still running with the old keys wrote some of them cannot be checked',
    );
    expect(await unchecked()).toBeNull();
  });

  it('a marker table of an older gate (no unchecked column) still reads, and a repair adds the column', async () => {
    db = await freshDatabase('E');
    expect(await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt', STRIPE_GATE_STRIPE_API: 'off' })).toMatchObject({ decision: 'adopted' });
    await db.query('ALTER TABLE stripe_mode_gate.marker DROP COLUMN unchecked');
    expect(await check({ ...TEST_KEYS, STRIPE_GATE_STRIPE_API: 'off' })).toMatchObject({ decision: 'match' });
    expect(await check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' })).toMatchObject({ decision: 'cleaned' });
    expect(await unchecked()).toMatchObject({ run: expect.stringMatching(/^\d+$/), afterXid: expect.stringMatching(/^\d+$/) });
  });

  it('a transaction that began before the repair and writes after its commit is caught too', async () => {
    db = await freshDatabase('E');
    expect(await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt', STRIPE_GATE_STRIPE_API: 'off' })).toMatchObject({ decision: 'adopted' });
    const early = new pg.Client({ connectionString: db.url });
    early.on('error', () => undefined);
    await early.connect();
    try {
      // It holds a transaction id older than the repair's, and no lock the repair waits for.
      await early.query('BEGIN');
      await early.query('SELECT pg_catalog.txid_current()');
      expect(await check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' })).toMatchObject({ decision: 'cleaned' });
      await early.query(
        "INSERT INTO stripe_customers (name, email, stripe_customer_id, created_at, updated_at) VALUES ('Early', 'e@example.com', 'cus_LateOld1', now(), now())",
      );
      await early.query('COMMIT');
    } finally {
      await early.end();
    }
    expect(await check(LIVE_KEYS)).toMatchObject({ decision: 'refused-mismatch', lateWrites: { stale: [{ id: 'cus_LateOld1' }] } });
  });

  it('more late rows than a start asks about: each start takes the next ones, and the watch ends only when none is left', async () => {
    const old = await cleanedToLive();
    for (let n = 1; n <= 12; n++) await old.insert(`cus_LateMany${n}`);
    await old.end();
    const clean = { ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' };
    expect(await check(clean)).toMatchObject({ decision: 'cleaned', changes: { repair: { stripe_customers: { rows: 10 } } } });
    expect(await unchecked()).not.toBeNull();
    expect(await check(clean)).toMatchObject({ decision: 'cleaned', changes: { repair: { stripe_customers: { rows: 2 } } } });
    expect(await check(clean)).toMatchObject({ decision: 'match' });
    expect(await unchecked()).toBeNull();
    expect(await customers('cus_LateMany%')).toBe(0);
  });

  it('with several platforms, an id any configured key knows is valid: a Canadian customer is not stale for the default key', async () => {
    const old = await cleanedToLive('E', { ...LIVE_KEYS, ...CA_KEYS });
    await old.insert('cus_CanadaLive1');
    await old.insert('cus_LateOld1');
    await old.end();
    const refused = await check({ ...LIVE_KEYS, ...CA_KEYS });
    expect(refused.lateWrites!.stale.map((r) => r.id)).toEqual(['cus_LateOld1']);
    expect(await check({ ...LIVE_KEYS, ...CA_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' })).toMatchObject({ decision: 'cleaned' });
    expect(await customers('cus_CanadaLive1')).toBe(1);
    expect(await customers('cus_LateOld1')).toBe(0);
  });

  it('a 404 that is not Stripe saying "no such object" (a wrong STRIPE_GATE_STRIPE_API_URL) makes nothing stale', async () => {
    const old = await cleanedToLive();
    await old.insert('cus_NewLive1');
    await old.end();
    const elsewhere = await startFakeStripe({ keys: { [LIVE_KEYS.STRIPE_SECRET_KEY]: ACCOUNT }, prefix: '/not-here' });
    try {
      const result = await check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean', STRIPE_GATE_STRIPE_API_URL: elsewhere.url });
      expect(result).toMatchObject({ decision: 'match', lateWrites: { stale: [] } });
      expect(result.message).toContain('Stripe gave no answer for cus_NewLive1 (Unrecognized request URL');
      expect(await customers('cus_NewLive1')).toBe(1);
    } finally {
      await elsewhere.close();
    }
  });

  it('after SaaS mode was turned off, Connect values written since are stranded by definition: refused, then repaired', async () => {
    db = await freshDatabase('E');
    const saasOn = { ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'true' };
    expect(await check({ ...saasOn, STRIPE_GATE_ON_UNKNOWN: 'adopt', STRIPE_GATE_STRIPE_API: 'off' })).toMatchObject({ decision: 'adopted' });
    expect(await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'false', STRIPE_GATE_ON_MISMATCH: 'clean' })).toMatchObject({
      decision: 'cleaned',
      changes: { scope: 'connect' },
    });
    // The old SaaS backend connects an organizer's account after the repair.
    await db.query(
      "INSERT INTO account_stripe_platforms (account_id, stripe_account_id, created_at, updated_at) SELECT min(id), 'acct_1LateSaasConn', now(), now() FROM accounts",
    );
    const refused = await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'false' });
    expect(refused).toMatchObject({ decision: 'refused-mismatch', exitCode: 65, changes: { repair: { account_stripe_platforms: { rows: 1 } } } });
    expect(refused.message).toContain(
      'rows were written with Connect values, which SaaS mode off strands (1 connected Stripe accounts (account_stripe_platforms))',
    );
    expect(await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'false', STRIPE_GATE_ON_MISMATCH: 'clean' })).toMatchObject({ decision: 'cleaned' });
    expect(await db.query("SELECT id FROM account_stripe_platforms WHERE stripe_account_id = 'acct_1LateSaasConn'")).toEqual([]);
    expect(await check({ ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'false' })).toMatchObject({ decision: 'match' });
    expect(await unchecked()).toBeNull();
  });
});

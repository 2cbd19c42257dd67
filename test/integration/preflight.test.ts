// The webhook checklist (README, "Preflight"): every item pass / warn / fail against the Stripe stand-in, the
// checklist in check and plan on a switch only, STRIPE_GATE_PREFLIGHT=refuse, and no Stripe call on a restart.
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { runPlan } from '../../src/core/plan.js';
import { runPreflight } from '../../src/core/preflight.js';
import { WEBHOOK_EVENTS } from '../../src/hievents/webhooks.js';
import type { PreflightItem } from '../../src/preflight.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startFakeStripe, type FakeEndpoint, type StripeWorld } from '../support/fake-stripe.js';
import { failure, gateContext, LIVE_KEYS, TEST_KEYS } from '../support/gate.js';

const ACCOUNT = 'acct_1Preflight';
const PUBLIC_API = { VITE_API_URL_CLIENT: 'https://tickets.example.com/api' };
const ROUTE = 'https://tickets.example.com/api/public/webhooks/stripe';
const endpoint = (over: Partial<FakeEndpoint> = {}): FakeEndpoint => ({ id: 'we_1Live', url: ROUTE, enabled_events: [...WEBHOOK_EVENTS], ...over });
/** The live side of a switch done right: a new webhook secret, an endpoint at the public URL with every event. */
const READY: StripeWorld = {
  keys: { [TEST_KEYS.STRIPE_SECRET_KEY]: ACCOUNT, [LIVE_KEYS.STRIPE_SECRET_KEY]: ACCOUNT },
  webhooks: { [ACCOUNT]: { live: [endpoint()], test: [endpoint({ id: 'we_1Test' })] } },
};

/** A database whose ids the marker says were made with the test keys (and their webhook secret). */
async function adoptedTest(): Promise<TestDatabase> {
  const db = await freshDatabase('E');
  const gate = await gateContext({ DATABASE_URL: db.url, ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
  expect((await runCheck(gate.ctx)).decision).toBe('adopted');
  return db;
}

/** The checklist of `env` (live keys unless it says otherwise) against a test-mode marker and the stand-in `world`. */
async function checklist(world: StripeWorld, env: Record<string, string> = {}) {
  const db = await adoptedTest();
  const stripe = await startFakeStripe(world);
  const gate = await gateContext({
    DATABASE_URL: db.url,
    ...LIVE_KEYS,
    ...PUBLIC_API,
    STRIPE_GATE_STRIPE_API: 'auto',
    STRIPE_GATE_STRIPE_API_URL: stripe.url,
    ...env,
  });
  const result = await runPreflight(gate.ctx);
  const items = (platform = 'default') => result.checklist!.platforms.find((p) => p.platform === platform)!.items;
  const item = (check: PreflightItem['check'], platform?: string) => items(platform).find((i) => i.check === check)!;
  return { db, stripe, gate, result, items, item };
}

describe('preflight: every item', () => {
  it('a switch done right passes every item, and says what it found', async () => {
    const { result, items } = await checklist(READY);
    expect(result.checklist).toMatchObject({ failures: 0, warnings: 0 });
    expect(items().map((i) => [i.check, i.status])).toEqual([
      ['keys', 'pass'],
      ['key-accepted', 'pass'],
      ['webhook-secret', 'pass'],
      ['webhook-endpoint', 'pass'],
    ]);
    expect(items().find((i) => i.check === 'webhook-endpoint')!.says).toBe(
      `the webhook endpoint we_1Live (${ROUTE}) is enabled in live mode of account ${ACCOUNT} with every event Hi.Events handles`,
    );
  });

  it('keys: placeholders are named as such, and an empty publishable key fails', async () => {
    const placeholder = await checklist(READY, { STRIPE_SECRET_KEY: 'sk_live_123456789' });
    expect(placeholder.item('keys')).toMatchObject({ status: 'fail', says: expect.stringContaining('STRIPE_SECRET_KEY is a placeholder') });
    // Stripe rejects it too: the key itself fails, the items it would have answered are warnings saying why.
    expect(placeholder.item('key-accepted')).toMatchObject({ status: 'fail', says: expect.stringContaining('Stripe rejected this key (401') });
    expect(placeholder.item('webhook-endpoint')).toMatchObject({ status: 'warn', says: expect.stringContaining('Stripe rejected this key') });
    const publicPlaceholder = await checklist(READY, { STRIPE_PUBLIC_KEY: 'pk_live_123456789' });
    expect(publicPlaceholder.item('keys')).toMatchObject({ status: 'fail', says: expect.stringContaining('STRIPE_PUBLIC_KEY is a placeholder') });
    const noPublic = await checklist(READY, { STRIPE_PUBLIC_KEY: '' });
    expect(noPublic.item('keys')).toMatchObject({ status: 'fail', says: 'the publishable key of STRIPE_SECRET_KEY is empty: checkout cannot load Stripe' });
  });

  it('key-accepted: a key whose account the marker knows is asked again, and a key Stripe rejects since fails', async () => {
    const db = await adoptedTest();
    const before = await startFakeStripe(READY);
    const env = { DATABASE_URL: db.url, ...TEST_KEYS, STRIPE_GATE_STRIPE_API: 'auto' };
    expect((await runCheck((await gateContext({ ...env, STRIPE_GATE_STRIPE_API_URL: before.url })).ctx)).decision).toBe('updated');
    // The key has been rolled in the Dashboard since: Stripe no longer knows it.
    const after = await startFakeStripe({ ...READY, keys: { [LIVE_KEYS.STRIPE_SECRET_KEY]: ACCOUNT } });
    const items = (await runPreflight((await gateContext({ ...env, STRIPE_GATE_STRIPE_API_URL: after.url })).ctx)).checklist!.platforms[0].items;
    expect(items.find((i) => i.check === 'key-accepted')).toMatchObject({ status: 'fail', says: expect.stringContaining('Stripe rejected this key (401') });
  });

  it('key-accepted: a warning saying why when it cannot be asked (API off, Stripe away)', async () => {
    const off = await checklist(READY, { STRIPE_GATE_STRIPE_API: 'off' });
    for (const check of ['key-accepted', 'webhook-endpoint'] as const) {
      expect(off.item(check)).toMatchObject({ status: 'warn', says: 'not checked: STRIPE_GATE_STRIPE_API=off' });
    }
    expect(off.stripe.arrived()).toBe(0);
    const db = await adoptedTest();
    const away = await startFakeStripe(READY);
    away.behave({ failWith: 500 });
    const gate = await gateContext({ DATABASE_URL: db.url, ...LIVE_KEYS, STRIPE_GATE_STRIPE_API: 'auto', STRIPE_GATE_STRIPE_API_URL: away.url });
    const items = (await runPreflight(gate.ctx)).checklist!.platforms[0].items;
    expect(items.find((i) => i.check === 'key-accepted')).toMatchObject({
      status: 'warn',
      says: expect.stringContaining('Stripe answered with a server error'),
    });
    expect(items.find((i) => i.check === 'webhook-endpoint')).toMatchObject({
      status: 'warn',
      says: expect.stringMatching(/^not checked: Stripe answered with a server error/),
    });
  });

  it('webhook-secret: empty, not a whsec_, a placeholder, or unchanged since the test mode all fail', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ STRIPE_WEBHOOK_SECRET: '' }, 'STRIPE_WEBHOOK_SECRET is empty'],
      [{ STRIPE_WEBHOOK_SECRET: 'sk_live_51NotAWebhookSecret00000000' }, 'STRIPE_WEBHOOK_SECRET is not a webhook signing secret (whsec_...)'],
      [{ STRIPE_WEBHOOK_SECRET: 'whsec_test_123456789' }, "STRIPE_WEBHOOK_SECRET is a placeholder (like Hi.Events' example whsec_test_123456789)"],
      [{ STRIPE_WEBHOOK_SECRET: TEST_KEYS.STRIPE_WEBHOOK_SECRET }, 'STRIPE_WEBHOOK_SECRET is unchanged since the test mode configuration'],
    ];
    for (const [env, says] of cases) {
      const { item } = await checklist(READY, env);
      expect(item('webhook-secret'), says).toEqual({
        check: 'webhook-secret',
        status: 'fail',
        says: `${says}: Hi.Events rejects every Stripe event, so paid orders stay AWAITING_PAYMENT`,
        fix: 'put the signing secret (whsec_...) of the live-mode webhook endpoint in STRIPE_WEBHOOK_SECRET',
      });
    }
  });

  it('webhook-secret: a new secret on a start that matches is recorded, so the next switch compares against it', async () => {
    const db = await adoptedTest();
    const rotated = { ...TEST_KEYS, STRIPE_WEBHOOK_SECRET: 'whsec_GateTestRotatedSecret0000000' };
    expect((await runCheck((await gateContext({ DATABASE_URL: db.url, ...rotated })).ctx)).decision).toBe('match');
    const gate = await gateContext({ DATABASE_URL: db.url, ...LIVE_KEYS, STRIPE_WEBHOOK_SECRET: rotated.STRIPE_WEBHOOK_SECRET });
    const items = (await runPreflight(gate.ctx)).checklist!.platforms[0].items;
    expect(items.find((i) => i.check === 'webhook-secret')).toMatchObject({
      status: 'fail',
      says: expect.stringContaining('unchanged since the test mode configuration'),
    });
  });

  it("webhook-secret: a platform of another account without a secret of its own shares the default's, and one of them fails", async () => {
    const caKey = 'sk_live_51GatePreflightCanadaKey00000';
    const ca = { STRIPE_CA_SECRET_KEY: caKey, STRIPE_CA_PUBLIC_KEY: 'pk_live_51GatePreflightCanadaPublic0000' };
    const { item } = await checklist({ ...READY, keys: { ...READY.keys, [caKey]: 'acct_1Canada' } }, ca);
    expect(item('webhook-secret', 'ca')).toMatchObject({
      status: 'fail',
      says: `STRIPE_CA_WEBHOOK_SECRET is not set, so STRIPE_CA_SECRET_KEY shares STRIPE_WEBHOOK_SECRET with the default platform, but its account acct_1Canada is not ${ACCOUNT}: one of them fails every event's signature check`,
    });
    const unknown = await checklist(READY, { ...ca, STRIPE_GATE_STRIPE_API: 'off' });
    expect(unknown.item('webhook-secret', 'ca')).toMatchObject({ status: 'warn' });
    const own = await checklist(
      { ...READY, keys: { ...READY.keys, [caKey]: 'acct_1Canada' } },
      { ...ca, STRIPE_CA_WEBHOOK_SECRET: 'whsec_GatePreflightCanadaSecret00' },
    );
    expect(own.item('webhook-secret', 'ca').status).toBe('pass');
  });

  it('webhook-secret: a marker of an older gate, which kept no webhook fingerprint, is a warning', async () => {
    const db = await adoptedTest();
    await db.query("UPDATE stripe_mode_gate.marker SET platforms = jsonb_set(platforms, '{default}', (platforms->'default') - 'webhookFingerprint')");
    const gate = await gateContext({ DATABASE_URL: db.url, ...LIVE_KEYS });
    const items = (await runPreflight(gate.ctx)).checklist!.platforms[0].items;
    expect(items.find((i) => i.check === 'webhook-secret')).toMatchObject({
      status: 'warn',
      says: 'the marker does not know the webhook secret of the test mode configuration, so whether STRIPE_WEBHOOK_SECRET changed with it is unknown',
    });
  });

  it('webhook-endpoint: missing events are named; a disabled one, another URL, another host or the other mode is no endpoint', async () => {
    const world = (endpoints: FakeEndpoint[], mode: 'live' | 'test' = 'live'): StripeWorld => ({ ...READY, webhooks: { [ACCOUNT]: { [mode]: endpoints } } });
    const missing = await checklist(world([endpoint({ enabled_events: ['payment_intent.succeeded', 'charge.succeeded'] })]));
    expect(missing.item('webhook-endpoint')).toMatchObject({
      status: 'fail',
      says: `the webhook endpoint we_1Live (${ROUTE}) misses events Hi.Events handles: payment_intent.payment_failed, account.updated, refund.updated, charge.updated, payout.paid, payout.updated`,
    });
    const all = await checklist(world([endpoint({ enabled_events: ['*'] })]));
    expect(all.item('webhook-endpoint').status).toBe('pass');
    const disabled = await checklist(world([endpoint({ status: 'disabled' })]));
    expect(disabled.item('webhook-endpoint')).toMatchObject({ status: 'fail', says: `the webhook endpoint we_1Live for ${ROUTE} is disabled` });
    const none = `no webhook endpoint in live mode of account ${ACCOUNT} points at ${ROUTE}`;
    for (const endpoints of [
      [endpoint({ url: 'https://tickets.example.com/api/other' })],
      [endpoint({ url: 'https://old.example.net/api/public/webhooks/stripe' })],
      [],
    ]) {
      expect((await checklist(world(endpoints))).item('webhook-endpoint')).toMatchObject({ status: 'fail', says: none });
    }
    // Only test-mode endpoints: the live key does not see them.
    expect((await checklist(world([endpoint()], 'test'))).item('webhook-endpoint')).toMatchObject({ status: 'fail', says: none });
  });

  it('webhook-endpoint: every page of the list is read', async () => {
    const others = Array.from({ length: 5 }, (_, i) => endpoint({ id: `we_1Other${i}`, url: `https://elsewhere.example.org/hook${i}` }));
    const paged = await checklist({ ...READY, pageSize: 2, webhooks: { [ACCOUNT]: { live: [...others, endpoint()] } } });
    expect(paged.item('webhook-endpoint').status).toBe('pass');
    expect(paged.stripe.requests.filter((r) => r.path === '/v1/webhook_endpoints')).toHaveLength(3);
  });

  it('webhook-endpoint: a local or private public URL is not compared (Stripe cannot reach it), and says so', async () => {
    for (const url of ['http://localhost:8123/api', 'http://192.168.1.20:8123/api', 'http://host.docker.internal/api']) {
      const { item } = await checklist(READY, { VITE_API_URL_CLIENT: url });
      expect(item('webhook-endpoint'), url).toMatchObject({
        status: 'pass',
        says: expect.stringContaining('VITE_API_URL_CLIENT is a local or private address'),
      });
    }
  });

  it('webhook-endpoint: in test mode no endpoint is a warning (`stripe listen` forwards events without one)', async () => {
    const { item } = await checklist({ ...READY, webhooks: {} }, TEST_KEYS);
    expect(item('webhook-endpoint')).toMatchObject({ status: 'warn', says: expect.stringContaining('fine only while `stripe listen` forwards the events') });
  });

  it('a restricted key without the permission: the endpoint item is a warning saying so', async () => {
    const restricted = 'rk_live_51GatePreflightRestricted0000';
    const { item } = await checklist(
      { ...READY, keys: { ...READY.keys, [restricted]: ACCOUNT }, denied: { [restricted]: ['/v1/webhook_endpoints'] } },
      { STRIPE_SECRET_KEY: restricted },
    );
    expect(item('webhook-endpoint')).toMatchObject({
      status: 'warn',
      says: expect.stringContaining('this key may not call GET /v1/webhook_endpoints (403'),
      fix: 'give the restricted key read access to it, or check it in the Stripe Dashboard',
    });
  });

  it('SaaS mode: whether the platform can use Connect, and a reminder about connected-account events', async () => {
    const on = { APP_SAAS_MODE_ENABLED: 'true' };
    const organizer = { acct_1Organizer: { platform: ACCOUNT, mode: 'live' as const } };
    const connect = await checklist({ ...READY, connected: organizer }, on);
    expect(connect.item('connect-platform')).toMatchObject({ status: 'pass', says: 'the platform account has connected accounts: Connect is on' });
    expect(connect.item('connect-events')).toMatchObject({
      status: 'warn',
      says: "Stripe's API does not show whether an endpoint receives connected accounts' events",
    });
    // Stripe lists nothing for an account that is no platform, as for a platform nobody connected to yet.
    const none = await checklist(READY, on);
    expect(none.item('connect-platform')).toMatchObject({
      status: 'warn',
      says: 'the account lists no connected account in live mode: either Connect is not activated, or no organizer connected yet',
      fix: 'SaaS mode needs Connect: activate it for this account in live mode (Stripe Dashboard, Connect)',
    });
    const refused = await checklist({ ...READY, refused: { '/v1/accounts': 'This application does not have access to Connect.' } }, on);
    expect(refused.item('connect-platform')).toMatchObject({
      status: 'fail',
      says: expect.stringContaining('This application does not have access to Connect'),
    });
    const off = await checklist(READY, { ...on, STRIPE_GATE_STRIPE_API: 'off' });
    expect(off.item('connect-platform')).toMatchObject({ status: 'warn', says: 'not checked: STRIPE_GATE_STRIPE_API=off' });
    expect((await checklist(READY)).items().map((i) => i.check)).not.toContain('connect-platform');
  });

  it('platforms: CA with keys of its own has a checklist of its own; IE falling back to the plain keys is not repeated', async () => {
    const caKey = 'sk_live_51GatePreflightCanadaKey00000';
    const { result, item } = await checklist(
      { ...READY, keys: { ...READY.keys, [caKey]: 'acct_1Canada' } },
      { STRIPE_CA_SECRET_KEY: caKey, STRIPE_CA_PUBLIC_KEY: 'pk_live_51GatePreflightCanadaPublic0000' },
    );
    expect(result.checklist!.platforms.map((p) => p.platform)).toEqual(['default', 'ca']);
    expect(item('webhook-endpoint', 'ca')).toMatchObject({
      status: 'fail',
      says: `no webhook endpoint in live mode of account acct_1Canada points at ${ROUTE}`,
    });
  });
});

describe('preflight in check and plan', () => {
  const liveCheck = async (db: TestDatabase, url: string, env: Record<string, string> = {}) => {
    const gate = await gateContext({
      DATABASE_URL: db.url,
      ...LIVE_KEYS,
      ...PUBLIC_API,
      STRIPE_GATE_STRIPE_API: 'auto',
      STRIPE_GATE_STRIPE_API_URL: url,
      STRIPE_GATE_ON_MISMATCH: 'clean',
      STRIPE_GATE_PREFLIGHT: 'warn',
      ...env,
    });
    return { gate, run: runCheck(gate.ctx) };
  };

  it('warn (the default): a switch goes ahead, with the failures in its result and its log', async () => {
    const db = await adoptedTest();
    const stripe = await startFakeStripe({ ...READY, webhooks: {} });
    const { gate, run } = await liveCheck(db, stripe.url, { STRIPE_WEBHOOK_SECRET: TEST_KEYS.STRIPE_WEBHOOK_SECRET });
    const result = await run;
    expect(result).toMatchObject({ decision: 'cleaned', exitCode: 0, preflight: { failures: 2 } });
    const warned = gate.logs().filter((l) => String(l.msg).startsWith('preflight '));
    expect(warned.map((l) => l.check)).toEqual(['webhook-secret', 'webhook-endpoint']);
  });

  it('refuse: a failing item is 78 before anything changes; a ready switch goes ahead', async () => {
    const db = await adoptedTest();
    const before = await db.checksums();
    const stripe = await startFakeStripe(READY);
    const refused = await failure(
      (await liveCheck(db, stripe.url, { STRIPE_GATE_PREFLIGHT: 'refuse', STRIPE_WEBHOOK_SECRET: TEST_KEYS.STRIPE_WEBHOOK_SECRET })).run,
    );
    expect(refused.exitCode).toBe(78);
    expect(refused.message).toContain('Refused (STRIPE_GATE_PREFLIGHT=refuse): the Stripe side of this switch is not ready, so nothing was changed');
    expect(refused.message).toContain('default webhook-secret: STRIPE_WEBHOOK_SECRET is unchanged since the test mode configuration');
    expect(await db.checksums()).toEqual(before);
    expect(await db.query('SELECT stripe_mode FROM stripe_mode_gate.marker')).toEqual([{ stripe_mode: 'test' }]);
    expect(await (await liveCheck(db, stripe.url, { STRIPE_GATE_PREFLIGHT: 'refuse' })).run).toMatchObject({ decision: 'cleaned', preflight: { failures: 0 } });
  });

  it("refuse does not hide the decision's own refusal (65), which reports the checklist too", async () => {
    const db = await adoptedTest();
    const stripe = await startFakeStripe({ ...READY, webhooks: {} });
    const result = await (await liveCheck(db, stripe.url, { STRIPE_GATE_PREFLIGHT: 'refuse', STRIPE_GATE_ON_MISMATCH: 'refuse' })).run;
    expect(result).toMatchObject({ decision: 'refused-mismatch', exitCode: 65, preflight: { failures: 1 } });
  });

  it('plan shows the checklist of a switch; off skips it', async () => {
    const db = await adoptedTest();
    const stripe = await startFakeStripe(READY);
    const env = {
      DATABASE_URL: db.url,
      ...LIVE_KEYS,
      ...PUBLIC_API,
      STRIPE_GATE_STRIPE_API: 'auto',
      STRIPE_GATE_STRIPE_API_URL: stripe.url,
      STRIPE_GATE_PREFLIGHT: 'warn',
    };
    expect((await runPlan((await gateContext(env)).ctx)).preflight).toMatchObject({ failures: 0, warnings: 0 });
    const asked = stripe.requests.length;
    expect((await runPlan((await gateContext({ ...env, STRIPE_GATE_PREFLIGHT: 'off' })).ctx)).preflight).toBeUndefined();
    expect(stripe.requests.slice(asked).map((r) => r.path)).not.toContain('/v1/webhook_endpoints');
  });

  it('a restart with an unchanged configuration asks Stripe nothing, checklist included', async () => {
    const db = await adoptedTest();
    const stripe = await startFakeStripe(READY);
    expect(await (await liveCheck(db, stripe.url)).run).toMatchObject({ decision: 'cleaned', preflight: { failures: 0 } });
    // The next start ends the watch for late writes (nothing was written since); every start after it is quiet.
    await (await liveCheck(db, stripe.url)).run;
    const asked = stripe.arrived();
    const restart = await (await liveCheck(db, stripe.url)).run;
    expect(restart.decision).toBe('match');
    expect(restart.preflight).toBeUndefined();
    expect(stripe.arrived()).toBe(asked);
  });
});

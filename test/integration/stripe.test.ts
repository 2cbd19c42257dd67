import { createServer } from 'node:http';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { runRestore } from '../../src/core/restore.js';
import { runStatus } from '../../src/core/status.js';
import { PROBE_SAMPLE } from '../../src/stripe/probe.js';
import { seededIds } from '../fixtures/hievents/index.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.js';
import { gateContext, LIVE_KEYS, OTHER_ACCOUNT_KEY, ROLLED_KEY, secretsUsed, TEST_KEYS } from '../support/gate.js';

const ACCOUNT_A = 'acct_1GatePlatformA';
const ACCOUNT_B = 'acct_1GatePlatformB';

let db: TestDatabase | undefined;
let stripe: FakeStripe;

beforeEach(async () => {
  const { customers, connectAccounts } = seededIds;
  stripe = await startFakeStripe({
    keys: { [TEST_KEYS.STRIPE_SECRET_KEY]: ACCOUNT_A, [LIVE_KEYS.STRIPE_SECRET_KEY]: ACCOUNT_A, [ROLLED_KEY]: ACCOUNT_A, [OTHER_ACCOUNT_KEY]: ACCOUNT_B },
    // The fixtures' ids, created in test mode of account A (customers 4 and 5 inside connected accounts).
    customers: {
      [customers[1]]: { account: ACCOUNT_A, mode: 'test' },
      [customers[2]]: { account: ACCOUNT_A, mode: 'test' },
      [customers[3]]: { account: ACCOUNT_A, mode: 'test' },
      [customers[4]]: { account: connectAccounts.alpha, mode: 'test' },
      [customers[5]]: { account: connectAccounts.beta, mode: 'test' },
    },
    connected: {
      [connectAccounts.alpha]: { platform: ACCOUNT_A, mode: 'test' },
      [connectAccounts.beta]: { platform: ACCOUNT_A, mode: 'test' },
      [connectAccounts.deletedAccount]: { platform: ACCOUNT_A, mode: 'test' },
    },
  });
});

async function gate(env: Record<string, string>) {
  const context = await gateContext({ DATABASE_URL: db!.url, STRIPE_GATE_STRIPE_API: 'auto', STRIPE_GATE_STRIPE_API_URL: stripe.url, ...env });
  const scan = () => {
    const text = context.output.join('\n');
    for (const secret of secretsUsed()) expect(text).not.toContain(secret);
  };
  return { ...context, scan };
}

async function check(env: Record<string, string>) {
  const g = await gate(env);
  const result = await runCheck(g.ctx);
  g.scan();
  return { result, logs: g.logs() };
}

const marker = async () =>
  (
    await db!.query<{ stripe_mode: string; platforms: Record<string, { accountId: string | null }> }>(
      'SELECT stripe_mode, platforms FROM stripe_mode_gate.marker',
    )
  )[0];

describe('the Stripe account of each key', () => {
  it('is recorded with one call for all platforms, and an unchanged key costs no call on later starts', async () => {
    db = await freshDatabase('empty');
    expect((await check(TEST_KEYS)).result.decision).toBe('recorded');
    expect(stripe.requests.map((r) => r.path)).toEqual(['/v1/account']);
    expect((await marker()).platforms).toMatchObject({ default: { accountId: ACCOUNT_A }, ca: { accountId: ACCOUNT_A }, ie: { accountId: ACCOUNT_A } });

    for (let i = 0; i < 3; i++) expect((await check(TEST_KEYS)).result.decision).toBe('match');
    expect(stripe.requests).toHaveLength(1);
  });

  it('sees a switch to another account with the same sk_test_ prefix as a mismatch, and cleans it', async () => {
    db = await freshDatabase('E');
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const refused = await check({ STRIPE_SECRET_KEY: OTHER_ACCOUNT_KEY });
    expect(refused.result).toMatchObject({ decision: 'refused-mismatch', exitCode: 65 });
    expect(refused.result.message).toContain(`test keys (Stripe account ${ACCOUNT_A})`);
    expect(refused.result.message).toContain(`test keys (Stripe account ${ACCOUNT_B})`);
    const cleaned = await check({ STRIPE_SECRET_KEY: OTHER_ACCOUNT_KEY, STRIPE_GATE_ON_MISMATCH: 'clean' });
    expect(cleaned.result).toMatchObject({ decision: 'cleaned', changes: { scope: 'everything' } });
    expect((await marker()).platforms.default.accountId).toBe(ACCOUNT_B);
  });

  it('takes a new key of the same account as an update, then goes back to the fast path', async () => {
    db = await freshDatabase('F');
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const before = await db.checksums();
    expect((await check({ STRIPE_SECRET_KEY: ROLLED_KEY })).result.decision).toBe('updated');
    const calls = stripe.requests.length;
    expect((await check({ STRIPE_SECRET_KEY: ROLLED_KEY })).result.decision).toBe('match');
    expect(stripe.requests).toHaveLength(calls);
    expect(await db.checksums()).toEqual(before);
  });

  it('learns the account of a marker that has none (adopted with Stripe off), so that a later switch is seen', async () => {
    db = await freshDatabase('E');
    await check({ ...TEST_KEYS, STRIPE_GATE_STRIPE_API: 'off', STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    expect((await marker()).platforms.default.accountId).toBeNull();
    expect((await check(TEST_KEYS)).result.decision).toBe('updated');
    expect((await marker()).platforms.default.accountId).toBe(ACCOUNT_A);
    const calls = stripe.requests.length;
    expect((await check(TEST_KEYS)).result.decision).toBe('match');
    expect(stripe.requests).toHaveLength(calls);
    expect((await check({ STRIPE_SECRET_KEY: OTHER_ACCOUNT_KEY })).result.decision).toBe('refused-mismatch');
  });

  it('warns when a new key meets a marker that never learned its account, and records nothing', async () => {
    db = await freshDatabase('E');
    await check({ ...TEST_KEYS, STRIPE_GATE_STRIPE_API: 'off', STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const { result, logs } = await check({ STRIPE_SECRET_KEY: OTHER_ACCOUNT_KEY });
    expect(result.decision).toBe('match');
    expect(logs.some((l) => l.level === 40 && String(l.msg).includes('a switch to another account cannot be seen'))).toBe(true);
    expect((await marker()).platforms.default.accountId).toBeNull();
  });

  it('restore compares the account too: ids of account A do not go back under account B', async () => {
    db = await freshDatabase('E');
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    await check({ STRIPE_SECRET_KEY: OTHER_ACCOUNT_KEY, STRIPE_GATE_ON_MISMATCH: 'clean' });
    await expect(runRestore((await gate({ STRIPE_SECRET_KEY: OTHER_ACCOUNT_KEY })).ctx)).rejects.toMatchObject({ exitCode: 65 });
    await expect(runRestore((await gate(TEST_KEYS)).ctx)).resolves.toMatchObject({ rows: { stripe_customers: 6 } });
  });

  it('status shows each platform with its account and a short fingerprint', async () => {
    db = await freshDatabase('empty');
    await check(TEST_KEYS);
    const status = await runStatus((await gate(TEST_KEYS)).ctx);
    expect(status.configured!.platforms.default).toEqual({
      accountId: ACCOUNT_A,
      keyFingerprint: expect.stringMatching(/^[0-9a-f]{12}$/),
      webhookFingerprint: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
    expect(status.stored!.platforms.default!.accountId).toBe(ACCOUNT_A);
  });
});

describe('when Stripe cannot be asked', () => {
  async function recordedThenNewKey(env: Record<string, string>) {
    db = await freshDatabase('E');
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    return check({ STRIPE_SECRET_KEY: OTHER_ACCOUNT_KEY, ...env });
  }

  it('auto compares mode and SaaS only, and says so, when Stripe is down', async () => {
    const { result, logs } = await recordedThenNewKey({ STRIPE_GATE_STRIPE_API_URL: 'http://127.0.0.1:9' });
    expect(result.decision).toBe('match');
    const warning = logs.find((l) => l.level === 40 && String(l.msg).startsWith('STRIPE_SECRET_KEY: Stripe could not be reached'));
    expect(warning).toBeDefined();
    expect(Object.keys(warning!.stripeError as object).sort()).toEqual(['message', 'type']);
    expect((await marker()).platforms.default.accountId).toBe(ACCOUNT_A);
  });

  it('auto does the same when Stripe answers 500, and logs no headers', async () => {
    stripe.behave({ failWith: 500 });
    const { result, logs } = await recordedThenNewKey({});
    expect(result.decision).toBe('match');
    const warning = logs.find((l) => l.level === 40)!;
    expect(warning.stripeError).toMatchObject({ statusCode: 500 });
    expect(JSON.stringify(logs)).not.toMatch(/request-id|authorization|headers/i);
  });

  it.each([
    ['the API is off', { STRIPE_GATE_STRIPE_API: 'off' }],
    ['Stripe is down', { STRIPE_GATE_STRIPE_API_URL: 'http://127.0.0.1:9' }],
  ])('a changed key where the marker knows the account is never a silent match when %s', async (_when, env) => {
    const { result, logs } = await recordedThenNewKey(env);
    expect(result.decision).toBe('match');
    expect(result.message).toContain(`so a switch away from ${ACCOUNT_A}, whose ids would then fail payments, cannot be ruled out`);
    expect(logs.some((l) => l.level === 40 && String(l.msg).includes('cannot be ruled out'))).toBe(true);
  });

  it('an unchanged key with the API off is a quiet match', async () => {
    db = await freshDatabase('E');
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const { result, logs } = await check({ ...TEST_KEYS, STRIPE_GATE_STRIPE_API: 'off' });
    expect(result.decision).toBe('match');
    expect(result.message).not.toContain('Warning');
    expect(logs.filter((l) => l.level === 40)).toEqual([]);
  });

  it('required fails with 69 when Stripe is down, and changes nothing', async () => {
    db = await freshDatabase('E');
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const before = await db.checksums();
    const g = await gate({ STRIPE_SECRET_KEY: OTHER_ACCOUNT_KEY, STRIPE_GATE_STRIPE_API: 'required', STRIPE_GATE_STRIPE_API_URL: 'http://127.0.0.1:9' });
    await expect(runCheck(g.ctx)).rejects.toMatchObject({ exitCode: 69 });
    expect(await db.checksums()).toEqual(before);
    expect((await marker()).platforms.default.accountId).toBe(ACCOUNT_A);
  });

  it('a slow Stripe costs at most the bounded time', async () => {
    db = await freshDatabase('empty');
    stripe.behave({ delayMs: 60_000 });
    const started = Date.now();
    const g = await gate({ ...TEST_KEYS, STRIPE_GATE_STRIPE_API: 'required' });
    await expect(runCheck(g.ctx)).rejects.toMatchObject({ exitCode: 69 });
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it("auto: a key Stripe rejects (Hi.Events' example value) does not keep the backend down: mode and SaaS decide, a warning says payments will fail", async () => {
    db = await freshDatabase('empty');
    const g = await gate({ STRIPE_SECRET_KEY: 'sk_test_123456789', STRIPE_PUBLIC_KEY: 'pk_test_123456789' });
    const result = await runCheck(g.ctx);
    expect(result).toMatchObject({ decision: 'recorded', exitCode: 0, configured: { stripeMode: 'test', platforms: { default: { accountId: null } } } });
    const warning = g.logs().find((l) => l.level === 40 && l.variable === 'STRIPE_SECRET_KEY');
    expect(warning?.msg).toMatch(
      /^STRIPE_SECRET_KEY: Stripe rejected this key \(401: Invalid API Key provided.*payments will fail with this key until it is replaced/,
    );
    expect(warning?.msg).toContain('no account is recorded');
    expect(await marker()).toMatchObject({ platforms: { default: { accountId: null } } });
  });

  it('required: a rejected key is 78 naming the variable', async () => {
    db = await freshDatabase('empty');
    const g = await gate({ STRIPE_SECRET_KEY: 'sk_test_51UnknownToStripe0000000000', STRIPE_GATE_STRIPE_API: 'required' });
    const error = await runCheck(g.ctx).catch((e: Error & { exitCode: number }) => e);
    expect(error).toMatchObject({ exitCode: 78 });
    expect((error as Error).message).toMatch(/^STRIPE_SECRET_KEY: Stripe rejected this key \(401/);
  });

  it.each([
    [403, 78, /^STRIPE_SECRET_KEY: this key may not call GET \/v1\/account \(403: .*a restricted key needs read access/],
    [404, 78, /^STRIPE_SECRET_KEY: GET \/v1\/account was not found \(404: .*STRIPE_GATE_STRIPE_API_URL does not point at Stripe's API/],
    [400, 78, /^STRIPE_SECRET_KEY: Stripe refused GET \/v1\/account \(400: /],
    [429, 69, /Stripe could not be reached and STRIPE_GATE_STRIPE_API=required/],
    [500, 69, /Stripe could not be reached and STRIPE_GATE_STRIPE_API=required/],
  ])(
    'required: Stripe answering %i is reported as what it is (exit %i), never as a rejected key',
    async (status, exitCode, words) => {
      db = await freshDatabase('empty');
      stripe.behave({ failWith: status });
      const g = await gate({ ...TEST_KEYS, STRIPE_GATE_STRIPE_API: 'required' });
      const error = await runCheck(g.ctx).catch((e: Error & { exitCode: number }) => e);
      expect(error).toMatchObject({ exitCode });
      expect((error as Error).message).toMatch(words);
      expect((error as Error).message).not.toContain('rejected this key');
    },
    30_000,
  );

  it('an HTML page where Stripe should answer (a proxy or another server) is a wrong URL (78 with required), not an outage', async () => {
    db = await freshDatabase('empty');
    const html = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><body>Not Found</body></html>');
    });
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(html.address() as { port: number }).port}`;
      const g = await gate({ ...TEST_KEYS, STRIPE_GATE_STRIPE_API: 'required', STRIPE_GATE_STRIPE_API_URL: url });
      const error = await runCheck(g.ctx).catch((e: Error & { exitCode: number }) => e);
      expect(error).toMatchObject({ exitCode: 78 });
      expect((error as Error).message).toContain("was answered by something other than Stripe's API");
    } finally {
      await new Promise((resolve) => html.close(resolve));
    }
  });

  it('auto: the same answers are warnings naming what they are, and the backend may start', async () => {
    db = await freshDatabase('empty');
    stripe.behave({ failWith: 429 });
    const g = await gate(TEST_KEYS);
    expect(await runCheck(g.ctx)).toMatchObject({ decision: 'recorded', exitCode: 0 });
    expect(g.logs().find((l) => l.level === 40)?.msg).toMatch(/^STRIPE_SECRET_KEY: Stripe is rate-limiting this key \(429/);
  }, 30_000);

  it('a path in STRIPE_GATE_STRIPE_API_URL (a proxy prefix) is where requests go; without it, a 404 is named as a wrong URL', async () => {
    db = await freshDatabase('empty');
    await stripe.close();
    stripe = await startFakeStripe({ keys: { [TEST_KEYS.STRIPE_SECRET_KEY]: ACCOUNT_A }, prefix: '/stripe/api' });
    const wrong = await gate({ ...TEST_KEYS, STRIPE_GATE_STRIPE_API: 'required' });
    await expect(runCheck(wrong.ctx)).rejects.toThrow(/GET \/v1\/account was not found \(404: .*STRIPE_GATE_STRIPE_API_URL/);
    const g = await gate({ ...TEST_KEYS, STRIPE_GATE_STRIPE_API: 'required', STRIPE_GATE_STRIPE_API_URL: `${stripe.url}/stripe/api/` });
    expect(await runCheck(g.ctx)).toMatchObject({ decision: 'recorded', configured: { platforms: { default: { accountId: ACCOUNT_A } } } });
  });
});

describe('STRIPE_GATE_ON_UNKNOWN=probe on ids without a marker', () => {
  it('adopts when Stripe finds every sampled id with the configured key, recording the account', async () => {
    db = await freshDatabase('E');
    const { result } = await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'probe' });
    expect(result).toMatchObject({ decision: 'adopted', exitCode: 0 });
    expect(result.message).toContain('Stripe found every one of the');
    expect(await marker()).toMatchObject({ stripe_mode: 'test', platforms: { default: { accountId: ACCOUNT_A } } });
    const lookups = stripe.requests.filter((r) => r.path !== '/v1/account');
    expect(lookups.length).toBeGreaterThan(0);
    expect(lookups.length).toBeLessThanOrEqual(2 * PROBE_SAMPLE);
    expect(lookups.some((r) => r.stripeAccount === seededIds.connectAccounts.alpha)).toBe(true);
  });

  it('treats ids Stripe says exist in the other mode as a switch from there: refused, or cleaned and restorable', async () => {
    db = await freshDatabase('F');
    const before = await db.checksums();
    const refused = await check({ ...LIVE_KEYS, STRIPE_GATE_ON_UNKNOWN: 'probe' });
    expect(refused.result).toMatchObject({ decision: 'refused-mismatch', exitCode: 65, stored: { stripeMode: 'test' } });
    expect(refused.result.message).toContain('Stripe says the stored ids exist in test mode');
    expect(await db.checksums()).toEqual(before);

    const cleaned = await check({ ...LIVE_KEYS, STRIPE_GATE_ON_UNKNOWN: 'probe', STRIPE_GATE_ON_MISMATCH: 'clean' });
    expect(cleaned.result).toMatchObject({ decision: 'cleaned', exitCode: 0 });
    expect(await marker()).toMatchObject({ stripe_mode: 'live' });
    await runRestore((await gate(TEST_KEYS)).ctx);
    expect(await db.checksums()).toEqual(before);
  });

  it('refuses (66) with what it saw when the ids are not found and Stripe gives no hint (another account)', async () => {
    db = await freshDatabase('B');
    const { result } = await check({ STRIPE_SECRET_KEY: OTHER_ACCOUNT_KEY, STRIPE_GATE_ON_UNKNOWN: 'probe' });
    expect(result).toMatchObject({ decision: 'refused-unknown', exitCode: 66 });
    expect(result.message).toMatch(
      /could not tell: Stripe did not say where they come from \(cus_\w+: The provided key 'sk_test_\*\*\*\*\w{4}' does not have access/,
    );
    // Every sampled id is asked about, and named.
    const lookups = stripe.requests.filter((r) => r.path !== '/v1/account');
    expect(lookups.length).toBeGreaterThan(1);
    expect(lookups.length).toBeLessThanOrEqual(2 * PROBE_SAMPLE);
    expect(result.message).toContain(seededIds.connectAccounts.alpha);
  });

  it('refuses (66) a mix: one stray test customer among live ones does not make the live ones stale', async () => {
    db = await freshDatabase('E');
    const { customers, connectAccounts } = seededIds;
    await stripe.close();
    // Live ids, but customer 3 (one of the sampled) is a stray left from test mode.
    stripe = await startFakeStripe({
      keys: { [LIVE_KEYS.STRIPE_SECRET_KEY]: ACCOUNT_A },
      customers: {
        [customers[3]]: { account: ACCOUNT_A, mode: 'test' },
        [customers[4]]: { account: connectAccounts.alpha, mode: 'live' },
        [customers[5]]: { account: connectAccounts.beta, mode: 'live' },
      },
      connected: Object.fromEntries(Object.values(connectAccounts).map((id) => [id, { platform: ACCOUNT_A, mode: 'live' as const }])),
    });
    const before = await db.checksums();
    const { result } = await check({ ...LIVE_KEYS, STRIPE_GATE_ON_UNKNOWN: 'probe', STRIPE_GATE_ON_MISMATCH: 'clean' });
    expect(result).toMatchObject({ decision: 'refused-unknown', exitCode: 66 });
    expect(result.message).toContain('the sampled ids do not all tell the same story');
    expect(result.message).toContain(`${customers[3]}: No such customer`);
    expect(result.message).toContain(`${customers[4]}: found`);
    expect(await db.checksums()).toEqual(before);
  });

  it('with STRIPE_GATE_STRIPE_API=required, an outage during the probe is 69, not a verdict on the ids', async () => {
    db = await freshDatabase('E');
    const g = await gate({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'probe', STRIPE_GATE_STRIPE_API: 'required' });
    stripe.behave({ failWith: 503 });
    // The account lookup fails first under required: 69 either way, and nothing is written.
    await expect(runCheck(g.ctx)).rejects.toMatchObject({ exitCode: 69 });
    expect(await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'stripe_mode_gate'")).toEqual([]);
  });

  it('refuses (66) when Stripe is down during the probe', async () => {
    db = await freshDatabase('A');
    const { result } = await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'probe', STRIPE_GATE_STRIPE_API_URL: 'http://127.0.0.1:9' });
    expect(result).toMatchObject({ decision: 'refused-unknown', exitCode: 66 });
  });
});

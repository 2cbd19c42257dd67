// `stripe-mode-gate preflight` as an operator runs it: the checklist on stdout (text or one JSON envelope), exit
// 0 when nothing fails and 78 when something does, no secret in any output, nothing written.
import { describe, expect, it } from 'vitest';
import { WEBHOOK_EVENTS } from '../../src/hievents/webhooks.js';
import { json, runCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';
import { startFakeStripe } from '../support/fake-stripe.js';
import { LIVE_KEYS, TEST_KEYS } from '../support/gate.js';

const ACCOUNT = 'acct_1CliPreflight';

describe('stripe-mode-gate preflight', () => {
  it('exits 78 with the fixes while the live side is not ready, and 0 once it is', async () => {
    const db = await freshDatabase('E');
    const url = 'https://tickets.example.com/api/public/webhooks/stripe';
    const stripe = await startFakeStripe({
      keys: { [TEST_KEYS.STRIPE_SECRET_KEY]: ACCOUNT, [LIVE_KEYS.STRIPE_SECRET_KEY]: ACCOUNT },
      webhooks: { [ACCOUNT]: { live: [{ id: 'we_1CliLive', url, enabled_events: [...WEBHOOK_EVENTS] }] } },
    });
    const env = {
      DATABASE_URL: db.url,
      STRIPE_GATE_STRIPE_API: 'auto',
      STRIPE_GATE_STRIPE_API_URL: stripe.url,
      VITE_API_URL_CLIENT: 'https://tickets.example.com/api',
    };
    expect((await runCli(['adopt', '--mode', 'test', '--saas', 'false'], { ...env, ...TEST_KEYS })).code).toBe(0);
    const before = await db.checksums();

    const forgotten = await runCli(['preflight'], { ...env, ...LIVE_KEYS, STRIPE_WEBHOOK_SECRET: TEST_KEYS.STRIPE_WEBHOOK_SECRET });
    expect(forgotten.code).toBe(78);
    expect(forgotten.stdout).toContain('FAIL  webhook-secret: STRIPE_WEBHOOK_SECRET is unchanged since the test mode configuration');
    expect(forgotten.stdout).toContain('fix: put the signing secret (whsec_...) of the live-mode webhook endpoint in STRIPE_WEBHOOK_SECRET');
    expect(forgotten.stdout).toContain(`pass  webhook-endpoint: the webhook endpoint we_1CliLive (${url}) is enabled in live mode of account ${ACCOUNT}`);

    const ready = await runCli(['preflight', '--json'], { ...env, ...LIVE_KEYS });
    expect(ready.code).toBe(0);
    expect(json(ready)).toMatchObject({
      command: 'preflight',
      exitCode: 0,
      message: 'preflight: nothing failed (0 warnings)',
      preflight: {
        failures: 0,
        platforms: [{ platform: 'default', items: expect.arrayContaining([expect.objectContaining({ check: 'webhook-secret', status: 'pass' })]) }],
      },
      stored: { stripeMode: 'test' },
    });
    expect(await db.checksums()).toEqual(before);
    expect(stripe.requests.map((r) => r.path)).toEqual(expect.arrayContaining(['/v1/webhook_endpoints']));
  });

  it('without a Stripe key there is nothing to check: 0', async () => {
    const db = await freshDatabase('empty');
    const run = await runCli(['preflight', '--json'], { DATABASE_URL: db.url, STRIPE_SECRET_KEY: '', STRIPE_PUBLIC_KEY: '' });
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({ command: 'preflight', preflight: null, message: 'No Stripe secret key is configured: nothing to check.' });
  });
});

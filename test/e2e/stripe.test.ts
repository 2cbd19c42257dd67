import { describe, expect, it } from 'vitest';
import { json, runCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';
import { startFakeStripe } from '../support/fake-stripe.js';
import { OTHER_ACCOUNT_KEY, TEST_KEYS } from '../support/gate.js';

describe('the built CLI and Stripe', () => {
  it('records the account, refuses another account (65), and fails with 69 when Stripe is required but down', async () => {
    const db = await freshDatabase('empty');
    const stripe = await startFakeStripe({ keys: { [TEST_KEYS.STRIPE_SECRET_KEY]: 'acct_1CliA', [OTHER_ACCOUNT_KEY]: 'acct_1CliB' } });
    const env = { DATABASE_URL: db.url, STRIPE_GATE_STRIPE_API: 'auto', STRIPE_GATE_STRIPE_API_URL: stripe.url };

    const recorded = await runCli(['check', '--json'], { ...env, ...TEST_KEYS });
    expect(json(recorded)).toMatchObject({ decision: 'recorded', configured: { platforms: { default: { accountId: 'acct_1CliA' } } } });
    // Something must exist to be stranded by the switch.
    await db.query(
      'CREATE TABLE stripe_customers (id bigserial PRIMARY KEY, name varchar NOT NULL, email varchar NOT NULL, stripe_customer_id varchar NOT NULL, deleted_at timestamp)',
    );
    await db.query("INSERT INTO stripe_customers (name, email, stripe_customer_id) VALUES ('A', 'a@example.com', 'cus_CliA1')");

    const other = await runCli(['check'], { ...env, STRIPE_SECRET_KEY: OTHER_ACCOUNT_KEY });
    expect(other.code).toBe(65);
    expect(other.stdout).toContain('test keys (Stripe account acct_1CliA)');
    expect(other.stdout).toContain('test keys (Stripe account acct_1CliB)');

    const down = await runCli(['check'], {
      ...env,
      STRIPE_SECRET_KEY: OTHER_ACCOUNT_KEY,
      STRIPE_GATE_STRIPE_API: 'required',
      STRIPE_GATE_STRIPE_API_URL: 'http://127.0.0.1:9',
    });
    expect(down.code).toBe(69);
    expect(down.logs.at(-1)!.msg).toContain('STRIPE_GATE_STRIPE_API=required');
    // Each configuration new to the marker is also checked for its webhooks (STRIPE_GATE_PREFLIGHT=warn, the default).
    expect(stripe.requests.map((r) => r.path)).toEqual(['/v1/account', '/v1/webhook_endpoints', '/v1/account', '/v1/webhook_endpoints']);
  });
});

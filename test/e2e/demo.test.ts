import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seeded } from '../fixtures/hievents/index.js';
import { secretsUsed } from '../support/gate.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo', () => {
  it('walks through refusal, the webhook checklist, plan, clean and restore on its own throwaway PostgreSQL, and cleans up', () => {
    const run = spawnSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/demo.ts'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    const steps = run.stdout
      .split('\n$ ')
      .slice(1)
      .map((block) => [block.split('\n')[0], block.match(/-> exit (\d+)/)?.[1]]);
    const test = 'STRIPE_SECRET_KEY=sk_test_... STRIPE_WEBHOOK_SECRET=<test endpoint secret>';
    const live = 'STRIPE_SECRET_KEY=sk_live_... STRIPE_WEBHOOK_SECRET=<live endpoint secret>';
    const forgotten = 'STRIPE_SECRET_KEY=sk_live_... STRIPE_WEBHOOK_SECRET=<test endpoint secret>';
    expect(steps).toEqual([
      [`${test} stripe-mode-gate`, '66'],
      [`${test} stripe-mode-gate adopt --mode test --saas false`, '0'],
      [`${test} stripe-mode-gate`, '0'],
      // The switch with the webhook secret left as it was: refused, with the checklist; the checklist alone is 78.
      [`${forgotten} stripe-mode-gate`, '65'],
      [`${forgotten} stripe-mode-gate preflight`, '78'],
      [`${live} stripe-mode-gate preflight`, '0'],
      [`${live} stripe-mode-gate plan`, '0'],
      [`${live} STRIPE_GATE_ON_MISMATCH=clean stripe-mode-gate`, '0'],
      [`${live} stripe-mode-gate`, '0'],
      [`${live} stripe-mode-gate restore`, '65'],
      [`${test} stripe-mode-gate restore`, '0'],
      [`${test} stripe-mode-gate`, '0'],
      [`${test} stripe-mode-gate status`, '0'],
    ]);
    expect(run.stdout).toContain('FAIL  webhook-secret: STRIPE_WEBHOOK_SECRET is unchanged since the test mode configuration');
    expect(run.stdout).toContain('stripe_customers: 0');
    const { tables, accountsWithAnyConnectColumn } = seeded.F;
    const archived = tables.stripe_customers + tables.account_stripe_platforms + tables.organizer_stripe_platforms + accountsWithAnyConnectColumn;
    expect(run.stdout).toContain(`Restored run #4: ${archived} rows put back`);
    expect(run.stdout).toMatch(/Done in \d+\.\d s; the throwaway PostgreSQL is stopped and removed/);
    expect(run.stdout).not.toMatch(/sk_(test|live)_51Demo/);
    for (const secret of secretsUsed()) expect(run.stdout + run.stderr).not.toContain(secret);
  });
});

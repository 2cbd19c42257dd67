// The run's abort signal (SIGTERM, SIGINT, the watcher stopping) reaches the core: a run ends at its next wait
// with StoppedError (143, or 130 for SIGINT), and commits nothing once stopped.
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { withGateRun } from '../../src/core/context.js';
import { StoppedError } from '../../src/errors.js';
import { freshDatabase } from '../support/db.js';
import { startFakeStripe } from '../support/fake-stripe.js';
import { failure, gateContext, TEST_KEYS } from '../support/gate.js';
import { until } from '../support/wait.js';

describe('a stopped run', () => {
  it('ends its wait for the database at once with 143, not after STRIPE_GATE_DB_WAIT_SECONDS', async () => {
    const gate = await gateContext({ ...TEST_KEYS, DATABASE_URL: 'postgresql://u:p@127.0.0.1:9/x', STRIPE_GATE_DB_WAIT_SECONDS: '60' });
    const controller = new AbortController();
    const running = failure(runCheck({ ...gate.ctx, signal: controller.signal }));
    await until(() => gate.logs().some((l) => String(l.msg).includes('database not reachable yet')), 'the database wait');
    const stopped = Date.now();
    controller.abort('SIGTERM');
    expect(await running).toEqual({ exitCode: 143, message: 'stopped by SIGTERM before the run ended; nothing it had not committed is kept' });
    expect(Date.now() - stopped).toBeLessThan(500);
  });

  it('ends its wait for Stripe with 130 on SIGINT, and records nothing (never a "Stripe unavailable" decision)', async () => {
    const db = await freshDatabase('empty');
    const stripe = await startFakeStripe({ keys: { [TEST_KEYS.STRIPE_SECRET_KEY]: 'acct_1Stop' } });
    stripe.behave({ delayMs: 10_000 });
    const gate = await gateContext({ ...TEST_KEYS, DATABASE_URL: db.url, STRIPE_GATE_STRIPE_API: 'auto', STRIPE_GATE_STRIPE_API_URL: stripe.url });
    const controller = new AbortController();
    const running = failure(runCheck({ ...gate.ctx, signal: controller.signal }));
    await until(() => stripe.arrived() > 0, 'the request to Stripe');
    controller.abort('SIGINT');
    expect((await running).exitCode).toBe(130);
    expect(gate.logs().filter((l) => Number(l.level) >= 40)).toEqual([]);
    expect(await db.query("SELECT to_regclass('stripe_mode_gate.marker') AS t")).toEqual([{ t: null }]);
  });

  it('commits nothing when stopped after its work, before COMMIT', async () => {
    const db = await freshDatabase('E');
    const gate = await gateContext({ DATABASE_URL: db.url });
    const before = await db.checksums();
    const controller = new AbortController();
    const run = withGateRun({ ...gate.ctx, signal: controller.signal }, async (client) => {
      await client.query('DELETE FROM public.stripe_customers');
      controller.abort('SIGTERM');
      return 'done';
    });
    await expect(run).rejects.toBeInstanceOf(StoppedError);
    expect(await db.checksums()).toEqual(before);
  });
});

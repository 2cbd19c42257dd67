// Two configurations at once (replicas or workers with different keys, a rollout under way): right after the
// marker moved to one, a gate with the other is refused instead of flipping the marker back and forth.
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { GATE_LOCK_KEY } from '../../src/db/lock.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { gateContext, LIVE_KEYS, TEST_KEYS } from '../support/gate.js';

let db: TestDatabase | undefined;

const check = async (env: Record<string, string>) => runCheck((await gateContext({ DATABASE_URL: db!.url, STRIPE_GATE_SETTLE_SECONDS: '300', ...env })).ctx);
const marker = async () => (await db!.query<{ stripe_mode: string }>('SELECT stripe_mode FROM stripe_mode_gate.marker'))[0];

describe('a second configuration right after the marker changed', () => {
  it('two gates of a new install with different keys: the first records, the second is refused naming both', async () => {
    db = await freshDatabase('empty');
    expect(await check(TEST_KEYS)).toMatchObject({ decision: 'recorded' });
    const second = await check(LIVE_KEYS);
    expect(second).toMatchObject({ decision: 'refused-mismatch', exitCode: 65 });
    expect(second.message).toMatch(/the marker was set to test keys, SaaS mode off only \d+ s ago/);
    expect(second.message).toContain('this one is configured with live keys, SaaS mode off');
    expect(second.message).toContain('STRIPE_GATE_SETTLE_SECONDS (300 s)');
    expect(await marker()).toEqual({ stripe_mode: 'test' });
    // The first configuration still matches.
    expect(await check(TEST_KEYS)).toMatchObject({ decision: 'match' });
  });

  it('an old replica restarting right after a clean is refused, and does not undo it', async () => {
    db = await freshDatabase('E');
    await check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt', STRIPE_GATE_SETTLE_SECONDS: '0' });
    expect(await check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean', STRIPE_GATE_SETTLE_SECONDS: '0' })).toMatchObject({ decision: 'cleaned' });
    const before = await db.checksums();
    expect(await check({ ...TEST_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' })).toMatchObject({ decision: 'refused-mismatch', exitCode: 65 });
    expect(await db.checksums()).toEqual(before);
    expect(await marker()).toEqual({ stripe_mode: 'live' });
  });

  it('passes once the settle time is over (here: 1 s)', async () => {
    db = await freshDatabase('empty');
    await check(TEST_KEYS);
    expect(await check({ ...LIVE_KEYS, STRIPE_GATE_SETTLE_SECONDS: '1' })).toMatchObject({ decision: 'refused-mismatch' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await check({ ...LIVE_KEYS, STRIPE_GATE_SETTLE_SECONDS: '1' })).toMatchObject({ decision: 'updated' });
    expect(await marker()).toEqual({ stripe_mode: 'live' });
  });

  it('counts from when the marker was written, not from when its run began (a run that waited for the lock)', async () => {
    db = await freshDatabase('empty');
    const pg = await import('pg');
    const holder = new pg.default.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [GATE_LOCK_KEY]);
    const first = check({ ...TEST_KEYS, STRIPE_GATE_SETTLE_SECONDS: '2' });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await holder.query('SELECT pg_advisory_unlock($1)', [GATE_LOCK_KEY]);
    await holder.end();
    expect(await first).toMatchObject({ decision: 'recorded' });
    expect(await check({ ...LIVE_KEYS, STRIPE_GATE_SETTLE_SECONDS: '2' })).toMatchObject({ decision: 'refused-mismatch' });
  });
});

// A network that stops delivering in the middle of a repair: the gate gives up within its documented bound
// (lock wait + STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS + 5 s) with 69, and nothing of the repair is kept.
import { describe, expect, it } from 'vitest';
import { startCli } from '../support/cli.js';
import { LIVE_KEYS } from '../support/gate.js';
import { largeDatabase, untilRepairDeletes } from '../support/large.js';
import { startStallingProxy } from '../support/tcp-proxy.js';

describe('a network that stops delivering', () => {
  it('mid-repair: exit 69 within the bound, nothing committed', async () => {
    const db = await largeDatabase(300_000);
    const before = await db.checksums();
    const proxy = await startStallingProxy(db.url);
    const env = {
      ...LIVE_KEYS,
      DATABASE_URL: proxy.url,
      STRIPE_GATE_ON_MISMATCH: 'clean',
      STRIPE_GATE_LOCK_WAIT_SECONDS: '1',
      STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS: '2',
    };
    const { child, done } = startCli(['check'], env);
    await untilRepairDeletes(db, child);
    proxy.stall();
    const stalledAt = Date.now();
    const run = await done;
    expect(run.code).toBe(69);
    // 1 s lock wait + 2 s statement + 5 s, then 1 s to give up on a polite disconnect.
    expect(Date.now() - stalledAt).toBeLessThan(10_000);
    expect(run.logs.at(-1)!.msg).toContain('stopped answering');
    expect(await db.checksums()).toEqual(before);
    expect(await db.query('SELECT count(*)::int AS n FROM stripe_mode_gate.archive')).toEqual([{ n: 0 }]);
  }, 60_000);
});

// A DATABASE_URL pointing at a hot standby (a read replica) instead of the primary: what needs no write passes,
// what needs one is exit 78 naming the primary, never 70.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { startPostgres, type TestServer } from '../../scripts/lib/postgres.js';
import { fixturePath } from '../fixtures/hievents/index.js';
import { withDatabase } from '../support/global-setup.js';
import { gateContext, LIVE_KEYS, TEST_KEYS } from '../support/gate.js';

let standby: TestServer;

beforeAll(async () => {
  standby = await startPostgres({
    standby: {
      async prepare(url) {
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        await admin.query('CREATE DATABASE adopted');
        await admin.query('CREATE DATABASE unmarked');
        await admin.end();
        for (const name of ['adopted', 'unmarked']) {
          const db = new pg.Client({ connectionString: withDatabase(url, name) });
          await db.connect();
          await db.query(readFileSync(fixturePath('E'), 'utf8'));
          await db.end();
        }
        await runCheck((await gateContext({ DATABASE_URL: withDatabase(url, 'adopted'), ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' })).ctx);
      },
    },
  });
}, 60_000);
afterAll(() => standby?.stop());

const check = async (database: string, env: Record<string, string>) =>
  runCheck((await gateContext({ DATABASE_URL: withDatabase(standby.url, database), ...env })).ctx).then(
    (r) => ({ exitCode: r.exitCode, decision: r.decision as string | null, message: r.message }),
    (e: Error & { exitCode?: number }) => ({ exitCode: e.exitCode, decision: null, message: e.message }),
  );

describe('the gate pointed at a hot standby', () => {
  it('is really in recovery', async () => {
    const client = new pg.Client({ connectionString: standby.url });
    await client.connect();
    const { rows } = await client.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
    await client.end();
    expect(rows).toEqual([{ recovery: true }]);
  });

  it('passes a match, which writes nothing', async () => {
    expect(await check('adopted', TEST_KEYS)).toMatchObject({ exitCode: 0, decision: 'match' });
  });

  it('still refuses a mismatch (65), with a warning that the refusal could not be logged', async () => {
    expect(await check('adopted', LIVE_KEYS)).toMatchObject({ exitCode: 65, decision: 'refused-mismatch' });
  });

  it('is 78 naming the primary where a repair must write', async () => {
    const result = await check('adopted', { ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' });
    expect(result.exitCode).toBe(78);
    expect(result.message).toContain('is read-only');
    expect(result.message).toContain('at the primary');
  });

  it('is 78 where a marker must be recorded', async () => {
    const result = await check('unmarked', { ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    expect(result.exitCode).toBe(78);
    expect(result.message).toContain('is read-only');
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { gateContext, LIVE_KEYS, TEST_KEYS } from '../support/gate.js';

/**
 * A role like a backend's on `db`: it may read and write the tables, but not create schemas or alter tables.
 * Dropped when the test ends, before the database is.
 */
async function appRole(db: TestDatabase): Promise<{ role: string; url: string }> {
  const role = `app_${randomBytes(4).toString('hex')}`;
  await db.query(`CREATE ROLE ${role} LOGIN PASSWORD 'app-role-password-1'`);
  onTestFinished(async () => {
    await db.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
  });
  await db.query(`REVOKE CREATE ON DATABASE ${db.name} FROM PUBLIC`);
  await db.query(`GRANT USAGE ON SCHEMA public TO ${role}; GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}`);
  const url = new URL(db.url);
  url.username = role;
  url.password = 'app-role-password-1';
  return { role, url: url.toString() };
}

describe('a database role without DDL privileges', () => {
  it('still gets the refusal (65), and the run is logged in the existing gate tables', async () => {
    const db = await freshDatabase('E');
    await runCheck((await gateContext({ DATABASE_URL: db.url, ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' })).ctx);
    const { role, url } = await appRole(db);
    await db.query(`GRANT USAGE ON SCHEMA stripe_mode_gate TO ${role}; GRANT ALL ON ALL TABLES IN SCHEMA stripe_mode_gate TO ${role}`);
    const result = await runCheck((await gateContext({ DATABASE_URL: url, ...LIVE_KEYS })).ctx);
    expect(result).toMatchObject({ decision: 'refused-mismatch', exitCode: 65 });
    expect(await db.query('SELECT decision FROM stripe_mode_gate.run_log ORDER BY id')).toEqual([{ decision: 'adopted' }, { decision: 'refused-mismatch' }]);
  });

  it('still gets the refusal (66) when the gate tables cannot be created, with a warning', async () => {
    const db = await freshDatabase('B');
    const { url } = await appRole(db);
    const gate = await gateContext({ DATABASE_URL: url, ...TEST_KEYS });
    const result = await runCheck(gate.ctx);
    expect(result).toMatchObject({ decision: 'refused-unknown', exitCode: 66 });
    expect(gate.logs().some((l) => l.msg === 'could not record the refusal in the run log')).toBe(true);
  });
});

describe('a database role missing a privilege the gate needs', () => {
  const failure = async (env: Record<string, string>) =>
    runCheck((await gateContext(env)).ctx).then(
      (r) => ({ exitCode: r.exitCode, message: r.message }),
      (e: Error & { exitCode?: number }) => ({ exitCode: e.exitCode, message: e.message }),
    );

  it('CREATE on the database, to record a new install: 78 naming the grant', async () => {
    const db = await freshDatabase('empty');
    const { role, url } = await appRole(db);
    const result = await failure({ DATABASE_URL: url, ...TEST_KEYS });
    expect(result.exitCode).toBe(78);
    expect(result.message).toContain(`GRANT CREATE ON DATABASE ${db.name} TO ${role}`);
  });

  it('USAGE on the gate schema: 78 naming the grant, before anything is decided', async () => {
    const db = await freshDatabase('E');
    await runCheck((await gateContext({ DATABASE_URL: db.url, ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' })).ctx);
    const { role, url } = await appRole(db);
    const before = await db.checksums();
    const result = await failure({ DATABASE_URL: url, ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' });
    expect(result.exitCode).toBe(78);
    expect(result.message).toContain(`GRANT USAGE ON SCHEMA stripe_mode_gate TO ${role}`);
    expect(await db.checksums()).toEqual(before);
  });

  it('SELECT on a Stripe table: 78 naming it, never taken for an empty install', async () => {
    const db = await freshDatabase('E');
    const { role, url } = await appRole(db);
    await db.query(`REVOKE ALL ON stripe_customers FROM ${role}; GRANT CREATE ON DATABASE ${db.name} TO ${role}`);
    const result = await failure({ DATABASE_URL: url, ...TEST_KEYS });
    expect(result.exitCode).toBe(78);
    expect(result.message).toContain(`GRANT SELECT ON public.stripe_customers TO ${role}`);
    expect(await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'stripe_mode_gate'")).toEqual([]);
  });
});

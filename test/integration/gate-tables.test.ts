// The gate's own tables (marker, run log, archive) changed by hand or by another program: refused (65) with
// what is wrong, never guessed; restore puts back a run only when its archive is whole.
import { describe, expect, it } from 'vitest';
import { runRestore } from '../../src/core/restore.js';
import { seeded } from '../fixtures/hievents/index.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { adoptedDatabase, inProcessGate, TEST_KEYS } from '../support/gate.js';
import { failsUnchanged } from '../support/refusals.js';

let db: TestDatabase | undefined;

const { ctx, check, adoptTest, cleanToLive } = inProcessGate(() => db!.url);

describe('tampered gate tables are refused, never guessed', () => {
  const cases: [string, string[], string][] = [
    [
      'a marker with null platforms',
      ['ALTER TABLE stripe_mode_gate.marker ALTER COLUMN platforms DROP NOT NULL', 'UPDATE stripe_mode_gate.marker SET platforms = NULL'],
      'the marker has platforms null',
    ],
    [
      'a marker with an unknown platform',
      [`UPDATE stripe_mode_gate.marker SET platforms = '{"us": {"accountId": null, "keyFingerprint": null}}'`],
      'unknown platform "us"',
    ],
    [
      'two marker rows',
      [
        'ALTER TABLE stripe_mode_gate.marker DROP CONSTRAINT marker_pkey',
        "INSERT INTO stripe_mode_gate.marker (singleton, stripe_mode, saas_mode, platforms, recorded_by) VALUES (true, 'live', false, '{}', 'x')",
      ],
      'more than one row',
    ],
    [
      'a mode in the wrong case',
      ['ALTER TABLE stripe_mode_gate.marker DROP CONSTRAINT marker_stripe_mode_check', "UPDATE stripe_mode_gate.marker SET stripe_mode = 'Test'"],
      'Stripe mode "Test"',
    ],
    ['a marker without its mode column', ['ALTER TABLE stripe_mode_gate.marker DROP COLUMN stripe_mode'], 'column "stripe_mode" does not exist'],
  ];
  it.each(cases)('%s', async (_name, tamper, named) => {
    db = await adoptedDatabase('E', tamper);
    const error = await failsUnchanged(db, () => check(TEST_KEYS), named);
    expect(error.message).toContain('adopt --force');
  });

  it('status shows the damage rather than failing on it', async () => {
    db = await adoptedDatabase('E', [`UPDATE stripe_mode_gate.marker SET platforms = '[]'`]);
    const { runStatus } = await import('../../src/core/status.js');
    const status = await runStatus(await ctx(TEST_KEYS));
    expect(status.stored).toBeNull();
    expect(status.damaged).toContain('the marker has platforms []');
    expect(status.stripeIds.stripe_customers).toBe(seeded.E.tables.stripe_customers);
  });

  it('adopt --force mends a marker with two rows', async () => {
    db = await adoptedDatabase('E', [
      'ALTER TABLE stripe_mode_gate.marker DROP CONSTRAINT marker_pkey',
      "INSERT INTO stripe_mode_gate.marker (singleton, stripe_mode, saas_mode, platforms, recorded_by) VALUES (true, 'live', false, '{}', 'x')",
    ]);
    const { adoptCommand } = await import('../../src/commands/adopt.js');
    await adoptCommand(await ctx(TEST_KEYS), { mode: 'test', force: true });
    expect(await db.query('SELECT stripe_mode FROM stripe_mode_gate.marker')).toEqual([{ stripe_mode: 'test' }]);
    expect(await check(TEST_KEYS)).toMatchObject({ decision: 'match' });
  });
});

describe('the archive', () => {
  it('with a trigger that drops what it is given: the repair is refused and nothing is lost', async () => {
    db = await adoptedDatabase('E', [
      'CREATE FUNCTION drop_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$',
      'CREATE TRIGGER swallow BEFORE INSERT ON stripe_mode_gate.archive FOR EACH ROW EXECUTE FUNCTION drop_row()',
    ]);
    await failsUnchanged(db, cleanToLive, 'archive has the trigger swallow');
  });

  it('emptied since the clean: restore refuses rather than report a restore of nothing', async () => {
    db = await freshDatabase('E');
    await adoptTest();
    await cleanToLive();
    await db.query("DELETE FROM stripe_mode_gate.archive WHERE table_name = 'stripe_customers' AND row_id > 2");
    await failsUnchanged(db, async () => runRestore(await ctx(TEST_KEYS)), 'does not hold what the clean archived (stripe_customers: 2 of 6)');
    expect(await db.query('SELECT stripe_mode FROM stripe_mode_gate.marker')).toEqual([{ stripe_mode: 'live' }]);
  });

  it('written by an older gate (no raw column): restore brings the column and puts the rows back', async () => {
    db = await freshDatabase('F');
    await adoptTest();
    const before = await db.checksums();
    await cleanToLive();
    await db.query('ALTER TABLE stripe_mode_gate.archive DROP COLUMN raw');
    await runRestore(await ctx(TEST_KEYS));
    expect(await db.checksums()).toEqual(before);
  });
});

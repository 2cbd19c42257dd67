import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seeded } from '../fixtures/hievents/index.js';
import { json, runCli } from '../support/cli.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { LIVE_KEYS, TEST_KEYS } from '../support/gate.js';

let db: TestDatabase | undefined;

const markerRows = () => db!.query('SELECT stripe_mode, saas_mode, recorded_by FROM stripe_mode_gate.marker');

describe('check, as the init container runs it', () => {
  it('records on a new install, then matches on every later start', async () => {
    db = await freshDatabase('empty');
    const first = await runCli(['check', '--json'], { ...TEST_KEYS, DATABASE_URL: db.url });
    expect(first.code).toBe(0);
    const doc = json(first);
    expect(doc).toMatchObject({ decision: 'recorded', exitCode: 0, stored: null, configured: { stripeMode: 'test', saasMode: false } });
    expect(doc.configured.platforms.default.keyFingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect(doc.changes).toEqual({ scope: null, repair: {}, history: {} });
    expect(await markerRows()).toEqual([{ stripe_mode: 'test', saas_mode: false, recorded_by: expect.any(String) }]);

    const second = await runCli([], { ...TEST_KEYS, DATABASE_URL: db.url });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Nothing to do');
    const final = second.logs.at(-1)!;
    expect(final).toMatchObject({ decision: 'match', exitCode: 0, stripeMode: 'test', stored: { stripeMode: 'test', saasMode: false } });
  });

  it('refuses ids of unknown origin with 66, on stdout, in the last log line and in the termination log', async () => {
    db = await freshDatabase('F');
    const dir = mkdtempSync(join(tmpdir(), 'smg-'));
    const terminationLog = join(dir, 'termination-log');
    const run = await runCli(['check', '--json'], { ...TEST_KEYS, DATABASE_URL: db.url, STRIPE_GATE_TERMINATION_LOG: terminationLog });
    expect(run.code).toBe(66);
    const doc = json(run);
    expect(doc).toMatchObject({ decision: 'refused-unknown', exitCode: 66, stored: null });
    expect(run.logs.at(-1)).toMatchObject({ level: 50, decision: 'refused-unknown', exitCode: 66 });
    const reason = readFileSync(terminationLog, 'utf8');
    rmSync(dir, { recursive: true });
    expect(reason).toBe(doc.message);
    expect(reason).toContain('stripe-mode-gate adopt --mode test --saas false');
    expect(await db.query('SELECT 1 FROM stripe_mode_gate.marker')).toEqual([]);
  });

  it('writes the termination log to a regular file only: never through a symlink, never to /dev/stdout', async () => {
    db = await freshDatabase('F');
    const dir = mkdtempSync(join(tmpdir(), 'smg-'));
    const precious = join(dir, 'precious');
    writeFileSync(precious, 'kept');
    symlinkSync(precious, join(dir, 'link'));
    const linked = await runCli(['check'], { ...TEST_KEYS, DATABASE_URL: db.url, STRIPE_GATE_TERMINATION_LOG: join(dir, 'link') });
    expect(linked.code).toBe(66);
    expect(readFileSync(precious, 'utf8')).toBe('kept');
    expect(linked.logs.find((l) => l.msg.startsWith('could not write the termination log'))).toMatchObject({ level: 40, reason: 'a symlink' });
    rmSync(dir, { recursive: true });

    const stdout = await runCli(['check', '--json'], { ...TEST_KEYS, DATABASE_URL: db.url, STRIPE_GATE_TERMINATION_LOG: '/dev/stdout' });
    expect(stdout.code).toBe(66);
    expect(json(stdout)).toMatchObject({ decision: 'refused-unknown' });
  });

  it('adopt declares the origin, then a switch to live keys is refused with 65 and explained', async () => {
    db = await freshDatabase('E');
    const adopt = await runCli(['adopt', '--mode', 'test', '--saas', 'false'], { ...TEST_KEYS, DATABASE_URL: db.url });
    expect(adopt.code).toBe(0);
    expect(adopt.stdout).toContain('Recorded test keys, SaaS mode off');
    expect(await markerRows()).toEqual([{ stripe_mode: 'test', saas_mode: false, recorded_by: expect.any(String) }]);

    const before = await db.checksums();
    const run = await runCli(['check'], { ...LIVE_KEYS, DATABASE_URL: db.url });
    expect(run.code).toBe(65);
    expect(run.stdout).toContain('Refused: the Stripe ids in this database were created under test keys, SaaS mode off');
    expect(run.stdout).toContain('STRIPE_GATE_ON_MISMATCH=clean');
    const final = run.logs.at(-1)!;
    expect(final).toMatchObject({
      decision: 'refused-mismatch',
      exitCode: 65,
      stripeMode: 'live',
      stored: { stripeMode: 'test' },
      configured: { stripeMode: 'live' },
      changes: { repair: { stripe_customers: { action: 'delete', rows: seeded.E.tables.stripe_customers } } },
    });
    expect(await db.checksums()).toEqual(before);
  });

  it('adopt refuses to overwrite a marker that says otherwise unless forced', async () => {
    db = await freshDatabase('B');
    expect((await runCli(['adopt', '--mode', 'test'], { ...TEST_KEYS, DATABASE_URL: db.url })).code).toBe(0);
    const refused = await runCli(['adopt', '--mode', 'live'], { ...LIVE_KEYS, DATABASE_URL: db.url });
    expect(refused.code).toBe(64);
    expect(refused.logs.at(-1)!.msg).toContain('--force');
    expect(await markerRows()).toMatchObject([{ stripe_mode: 'test' }]);
    const forced = await runCli(['adopt', '--mode', 'live', '--force'], { ...LIVE_KEYS, DATABASE_URL: db.url });
    expect(forced.code).toBe(0);
    expect(await markerRows()).toMatchObject([{ stripe_mode: 'live' }]);
    expect((await runCli(['check'], { ...LIVE_KEYS, DATABASE_URL: db.url })).code).toBe(0);
  });

  it('skips with no Stripe key configured', async () => {
    const run = await runCli(['check', '--json'], { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' });
    expect(run.code).toBe(0);
    expect(json(run).decision).toBe('skipped');
  });
});

describe('plan and status change nothing', () => {
  it('plan shows the rows a repair would touch and exits 0, or the decision code with --exit-code', async () => {
    db = await freshDatabase('F');
    await runCli(['adopt', '--mode', 'test'], { ...TEST_KEYS, DATABASE_URL: db.url });
    const before = await db.checksums();
    const runsBefore = await db.query('SELECT id FROM stripe_mode_gate.run_log');
    const plan = await runCli(['plan', '--json'], { ...LIVE_KEYS, DATABASE_URL: db.url });
    expect(plan.code).toBe(0);
    expect(json(plan)).toMatchObject({
      decision: 'refused-mismatch',
      exitCode: 65,
      stored: { stripeMode: 'test' },
      configured: { stripeMode: 'live' },
      changes: {
        scope: 'everything',
        repair: {
          stripe_customers: { action: 'delete', rows: seeded.F.tables.stripe_customers },
          account_stripe_platforms: { action: 'delete', rows: seeded.F.tables.account_stripe_platforms },
          organizer_stripe_platforms: { action: 'delete', rows: seeded.F.tables.organizer_stripe_platforms },
          accounts: { action: 'reset', rows: seeded.F.accountsWithAnyConnectColumn },
        },
        history: { stripe_payments: 4, stripe_payouts: 2, order_refunds: 2, order_payment_platform_fees: 2 },
      },
    });
    const text = await runCli(['plan', '--exit-code'], { ...LIVE_KEYS, DATABASE_URL: db.url });
    expect(text.code).toBe(65);
    expect(text.stdout).toContain('delete 6 rows of stripe_customers');
    expect(text.stdout).toContain('4 rows of stripe_payments');
    expect(await db.checksums()).toEqual(before);
    expect(await db.query('SELECT id FROM stripe_mode_gate.run_log')).toEqual(runsBefore);
  });

  it('status shows marker, configuration, fingerprints (never keys), counts and the last runs', async () => {
    db = await freshDatabase('A');
    const empty = await runCli(['status', '--json'], { ...TEST_KEYS, DATABASE_URL: db.url });
    expect(empty.code).toBe(0);
    expect(json(empty)).toMatchObject({ stored: null, runs: [], stripeIds: { stripe_customers: 6, accounts: 3 }, history: { stripe_payments: 4 } });
    expect(await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'stripe_mode_gate'")).toEqual([]);

    await runCli(['check'], { ...TEST_KEYS, DATABASE_URL: db.url, STRIPE_GATE_ON_UNKNOWN: 'adopt' });
    const run = await runCli(['status'], { ...TEST_KEYS, DATABASE_URL: db.url });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/marker: +test keys, SaaS mode off; recorded/);
    expect(run.stdout).toMatch(/default: key sha256 [0-9a-f]{12}, account unknown/);
    expect(run.stdout).toMatch(/#1 \S+ check adopted/);
  });
});

describe('check when SaaS mode is turned on', () => {
  it('updates the marker (exit 0) and leaves every id alone', async () => {
    db = await freshDatabase('F');
    await runCli(['adopt', '--mode', 'test', '--saas', 'false'], { ...TEST_KEYS, DATABASE_URL: db.url });
    const before = await db.checksums();
    const run = await runCli(['check', '--json'], { ...TEST_KEYS, APP_SAAS_MODE_ENABLED: 'true', DATABASE_URL: db.url });
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({ decision: 'updated', stored: { saasMode: false }, configured: { saasMode: true } });
    expect(await markerRows()).toMatchObject([{ stripe_mode: 'test', saas_mode: true }]);
    expect(await db.checksums()).toEqual(before);
  });
});

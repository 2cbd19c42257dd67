// Benchmark: a clean (STRIPE_GATE_ON_MISMATCH=clean) on a large Hi.Events database, against the same work
// written by hand as set-based SQL. A measurement, not a test: it exits 0 whether or not the goals are met,
// and non-zero only when a run did not do the work it should have (or something broke).
//
// Usage:
//   npm run bench:clean                     builds the CLI, then runs this with 3 runs of each
//   npx tsx bench/clean.ts --cli ../other/dist/cli.mjs    another build, for a side-by-side
//   npx tsx bench/clean.ts --runs 5         after `npm run build` (BENCH_RUNS=5 works too); --readme writes
//                                           the figures into README.md
//   TEST_PG_BIN=/usr/lib/postgresql/15/bin npx tsx bench/clean.ts     on another PostgreSQL build
//
// It starts a throwaway PostgreSQL, builds one Hi.Events v1.8 (shape E) database (the fixture plus 1,000,000 Stripe
// customers and 100,000 connected accounts) and keeps it as a template. Then, alternately, each on a fresh
// copy whose marker says "created with test keys":
//   A  the built gate, `node dist/cli.mjs check --json` with live keys: wall time (spawn to exit), peak RSS;
//   B  the same archive-and-repair as hand-written SQL in one transaction from this process: wall time of a
//      fresh connection plus BEGIN..COMMIT.
// Progress goes to stderr; the table and one JSON line (for the README) go to stdout. Linux only: the peak
// RSS is read from /proc.
// The goal (from the issue): median(A) / median(B) within 1.2x, and the gate's peak RSS under 150 MB.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres } from '../scripts/lib/postgres.js';
import { ident, qualified } from '../src/db/sql.js';
import { fixturePath, seeded } from '../test/fixtures/hievents/index.js';
import { median, writeReadme } from './stats.js';

const BUILT = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
/** The gate under test: this build, or another one given with --cli (e.g. the previous commit's). */
let CLI = BUILT;
const CUSTOMERS = 1_000_000;
const ACCOUNTS = 100_000;
const GOAL = { ratio: 1.2, peakRssMb: 150 };
const TEMPLATE = 'bench_clean_template';
/** The gate checks a key's prefix only; these are shaped like real keys and valid nowhere. */
const TEST_KEY = 'sk_test_51BenchKeyTestModeOnly00000000000000';
const LIVE_KEY = 'sk_live_51BenchKeyLiveModeOnly00000000000000';
/** The tables a clean of shape E touches, in the order the gate touches them. */
const TABLES = ['stripe_customers', 'account_stripe_platforms', 'accounts'] as const;
type Counts = Record<(typeof TABLES)[number], number>;

// ---------------------------------------------------------------------------------------------------------
// The data
// ---------------------------------------------------------------------------------------------------------

// One customer in ten belongs to a connected account (Hi.Events creates those customers inside it).
const CUSTOMERS_SQL = `
  INSERT INTO stripe_customers (name, email, stripe_customer_id, stripe_account_id, created_at, updated_at)
  SELECT 'Customer ' || n, 'customer' || n || '@example.com', 'cus_Test' || n,
         CASE WHEN n % 10 = 0 THEN 'acct_Test' || ((n / 10 - 1) % $2::int + 1) END, at, at
    FROM generate_series(1, $1::int) AS n,
         LATERAL (SELECT timestamp '2024-01-01' + n * interval '20 seconds') AS t(at)`;

// Every new account has finished Connect onboarding, and has its one account_stripe_platforms row (as the
// v1.2 upgrade left it: the id in both places).
const ACCOUNTS_SQL = `
  WITH created AS (
    INSERT INTO accounts (name, email, short_id, currency_code, timezone, account_configuration_id,
                          stripe_account_id, stripe_connect_setup_complete, stripe_connect_account_type,
                          account_verified_at, created_at, updated_at)
    SELECT 'Organizer ' || n, 'billing' || n || '@example.com', 'acc_Bench' || n, 'EUR', 'Europe/Dublin', 1,
           'acct_Test' || n, true, 'express', at, at, at
      FROM generate_series(1, $1::int) AS n,
           LATERAL (SELECT timestamp '2024-01-01' + n * interval '3 minutes') AS t(at)
    RETURNING id, name, stripe_account_id, created_at)
  INSERT INTO account_stripe_platforms (account_id, stripe_connect_account_type, stripe_account_id,
                                        stripe_setup_completed_at, stripe_account_details, created_at, updated_at)
  SELECT id, 'express', stripe_account_id, created_at,
         jsonb_build_object('country', 'IE', 'default_currency', 'eur', 'charges_enabled', true,
                            'payouts_enabled', true, 'business_name', name),
         created_at, created_at
    FROM created`;

// What a clean must touch: every customer and connected account, and the accounts with any Connect column.
const COUNTS_SQL = `
  SELECT (SELECT count(*) FROM stripe_customers)::int AS stripe_customers,
         (SELECT count(*) FROM account_stripe_platforms)::int AS account_stripe_platforms,
         (SELECT count(*) FROM accounts WHERE stripe_account_id IS NOT NULL
            OR stripe_connect_account_type IS NOT NULL OR stripe_connect_setup_complete)::int AS accounts`;

/** Builds the template: the shape E fixture (its seed rows kept), the bulk rows, then fresh statistics. */
async function buildTemplate(adminUrl: string): Promise<Counts> {
  await withClient(adminUrl, (admin) => admin.query(`CREATE DATABASE ${ident(TEMPLATE)}`));
  return withClient(databaseUrl(adminUrl, TEMPLATE), async (db) => {
    await db.query(readFileSync(fixturePath('E'), 'utf8'));
    await db.query(CUSTOMERS_SQL, [CUSTOMERS, ACCOUNTS]);
    await db.query(ACCOUNTS_SQL, [ACCOUNTS]);
    // Without it the copies would inherit unset hint bits and no statistics, and the first timed run would
    // pay for what the later ones do not.
    await db.query('VACUUM ANALYZE');
    const { rows } = await db.query<Counts>(COUNTS_SQL);
    const expected = CUSTOMERS + seeded.E.tables.stripe_customers;
    if (rows[0].stripe_customers !== expected) {
      throw new Error(`the template holds ${rows[0].stripe_customers} stripe_customers rows, expected ${expected}`);
    }
    return rows[0];
  });
}

/**
 * A fresh copy of the template whose marker says its ids were created with test keys. Not timed. CHECKPOINT
 * and sync write out the copy and what earlier runs left in the page cache now: otherwise the kernel flushes
 * it (after 30 s by default) in the middle of a later timed run, whichever kind that is.
 */
async function freshCopy(adminUrl: string, name: string): Promise<string> {
  await withClient(adminUrl, (admin) => admin.query(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(TEMPLATE)}`));
  const url = databaseUrl(adminUrl, name);
  const adopt = await runCli(['adopt', '--mode', 'test', '--saas', 'false'], { DATABASE_URL: url, STRIPE_SECRET_KEY: TEST_KEY });
  if (adopt.code !== 0) throw new Error(`adopt exited ${adopt.code}: ${adopt.stderr}`);
  await withClient(adminUrl, (admin) => admin.query('CHECKPOINT'));
  execFileSync('sync');
  return url;
}

/** Runs `fn` on a fresh copy, dropped afterwards whatever happens, so that copies (~200 MB each) do not pile up. */
async function onFreshCopy<T>(adminUrl: string, name: string, fn: (url: string) => Promise<T>): Promise<T> {
  try {
    return await fn(await freshCopy(adminUrl, name));
  } finally {
    await withClient(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`));
  }
}

// ---------------------------------------------------------------------------------------------------------
// A: the gate
// ---------------------------------------------------------------------------------------------------------

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  peakRssKb: number;
}

/** VmHWM: the kernel's own high-water mark of the process's resident set. */
function vmHwmKb(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // already gone
  }
}

/**
 * Runs the built CLI with only `env` (and PATH), timing it from spawn to exit and polling its peak RSS.
 * VmHWM never decreases, so a poll every 20 ms loses only what the process grows by in its last interval
 * before exit (after the final poll): the figure can be a little low, never high.
 */
function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // The bench keys are valid nowhere: Stripe is not asked which account they belong to.
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', STRIPE_GATE_STRIPE_API: 'off', STRIPE_GATE_SETTLE_SECONDS: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peakRssKb = 0;
    let ms = 0;
    const poll = setInterval(() => (peakRssKb = Math.max(peakRssKb, vmHwmKb(child.pid!))), 20);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error) => {
      clearInterval(poll);
      reject(error);
    });
    child.on('exit', () => {
      ms = performance.now() - started;
      clearInterval(poll);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr, ms, peakRssKb }));
  });
}

async function timeGate(url: string, expected: Counts): Promise<{ ms: number; peakRssKb: number }> {
  const run = await runCli(['check', '--json'], { DATABASE_URL: url, STRIPE_SECRET_KEY: LIVE_KEY, STRIPE_GATE_ON_MISMATCH: 'clean' });
  if (run.code !== 0) throw new Error(`the gate exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
  const result = JSON.parse(run.stdout) as { decision: string; changes: { repair: Record<string, { rows: number }> } };
  if (result.decision !== 'cleaned') throw new Error(`the gate decided ${result.decision}, expected cleaned`);
  const repaired = Object.fromEntries(TABLES.map((t) => [t, result.changes.repair[t]?.rows ?? 0])) as Counts;
  expectCounts('the gate repaired', repaired, expected);
  expectCounts('the gate archived', await archivedCounts(url, 'stripe_mode_gate'), expected);
  return { ms: run.ms, peakRssKb: run.peakRssKb };
}

// ---------------------------------------------------------------------------------------------------------
// B: the same work by hand
// ---------------------------------------------------------------------------------------------------------

/** The columns of the gate's archive (src/marker/schema.ts), in a schema of its own. Created before timing. */
const ARCHIVE_DDL = `
  CREATE SCHEMA by_hand;
  CREATE TABLE by_hand.archive (
    run_id bigint NOT NULL,
    table_name text NOT NULL,
    row_id bigint NOT NULL,
    action text NOT NULL CHECK (action IN ('delete', 'reset')),
    old_row jsonb NOT NULL,
    raw jsonb
  )`;

// What a DBA would write for the same repair: each table's rows leave it and land in the archive in one
// statement. accounts keeps its rows, so its old values are read (and locked) first, as apply.ts does. The
// exact text of the one jsonb column (stripe_account_details) is kept beside the row, as the gate keeps it.
const BY_HAND: Record<keyof Counts, string> = {
  stripe_customers: `
    WITH gone AS (DELETE FROM public.stripe_customers AS t RETURNING t.id, to_jsonb(t) AS old_row)
    INSERT INTO by_hand.archive SELECT 1, 'stripe_customers', id, 'delete', old_row FROM gone`,
  account_stripe_platforms: `
    WITH gone AS (DELETE FROM public.account_stripe_platforms AS t
                  RETURNING t.id, to_jsonb(t) AS old_row, jsonb_build_object('stripe_account_details', t.stripe_account_details::text) AS raw)
    INSERT INTO by_hand.archive SELECT 1, 'account_stripe_platforms', id, 'delete', old_row, raw FROM gone`,
  accounts: `
    WITH old AS (SELECT t.id, to_jsonb(t) AS old_row FROM public.accounts AS t
                  WHERE t.stripe_account_id IS NOT NULL OR t.stripe_connect_account_type IS NOT NULL
                     OR t.stripe_connect_setup_complete
                    FOR UPDATE),
         changed AS (UPDATE public.accounts AS t
                        SET stripe_account_id = NULL, stripe_connect_account_type = NULL,
                            stripe_connect_setup_complete = false
                       FROM old WHERE t.id = old.id RETURNING old.id, old.old_row)
    INSERT INTO by_hand.archive SELECT 1, 'accounts', id, 'reset', old_row FROM changed`,
};

/** Times a fresh connection (the gate's process has to make one too) plus BEGIN..COMMIT. */
async function timeByHand(url: string, expected: Counts): Promise<{ ms: number }> {
  await withClient(url, (db) => db.query(ARCHIVE_DDL));
  const started = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const done = {} as Counts;
  try {
    await client.query('BEGIN');
    for (const table of TABLES) done[table] = (await client.query(BY_HAND[table])).rowCount ?? 0;
    await client.query('COMMIT');
  } finally {
    await client.end(); // an error above leaves the transaction open: ending the session rolls it back
  }
  const ms = performance.now() - started;
  expectCounts('by hand repaired', done, expected);
  expectCounts('by hand archived', await archivedCounts(url, 'by_hand'), expected);
  return { ms };
}

// ---------------------------------------------------------------------------------------------------------
// Running and reporting
// ---------------------------------------------------------------------------------------------------------

/** What each archive holds afterwards: proves both runs did the same work, whatever they reported. */
async function archivedCounts(url: string, schema: string): Promise<Counts> {
  return withClient(url, async (db) => {
    const { rows } = await db.query<{ table_name: string; rows: number }>(
      `SELECT table_name, count(*)::int AS rows FROM ${qualified(schema, 'archive')} GROUP BY table_name`,
    );
    return Object.fromEntries(TABLES.map((t) => [t, rows.find((r) => r.table_name === t)?.rows ?? 0])) as Counts;
  });
}

function expectCounts(what: string, actual: Counts, expected: Counts): void {
  for (const table of TABLES) {
    if (actual[table] !== expected[table]) throw new Error(`${what} ${actual[table]} rows of ${table}, expected ${expected[table]}`);
  }
}

function options(): { runs: number; readme: boolean } {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, readme: { type: 'boolean', default: false }, cli: { type: 'string', default: BUILT } } });
  CLI = values.cli;
  const raw = values.runs ?? process.env.BENCH_RUNS ?? '3';
  const runs = Number(raw);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs / BENCH_RUNS: expected a whole number >= 1, got ${raw}`);
  return { runs, readme: values.readme ?? false };
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const started = performance.now();
const progress = (text: string) => process.stderr.write(`[${seconds(performance.now() - started).padStart(9)}] ${text}\n`);

interface Figures {
  gateMs: number[];
  gateRssKb: number[];
  byHandMs: number[];
}

function report(figures: Figures, rows: Counts, postgres: string, readme: boolean): void {
  const cpus = os.cpus();
  const machine = { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGb: round(os.totalmem() / 2 ** 30, 1) };
  const gate = { medianMs: median(figures.gateMs), minMs: Math.min(...figures.gateMs), peakRssMb: Math.max(...figures.gateRssKb) / 1024 };
  const byHand = { medianMs: median(figures.byHandMs), minMs: Math.min(...figures.byHandMs) };
  const ratio = gate.medianMs / byHand.medianMs;
  const met = { ratio: ratio <= GOAL.ratio, peakRss: gate.peakRssMb < GOAL.peakRssMb };
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

  const line = (label: string, a: string, b: string, rss = '') => `${label.padEnd(10)}${a.padStart(14)}${b.padStart(14)}${rss.padStart(14)}`;
  const lines = [
    line('', 'A gate', 'B by hand', 'A peak RSS'),
    ...figures.gateMs.map((ms, i) => line(`run ${i + 1}`, seconds(ms), seconds(figures.byHandMs[i]), `${(figures.gateRssKb[i] / 1024).toFixed(1)} MB`)),
    line('median', seconds(gate.medianMs), seconds(byHand.medianMs)),
    line('min', seconds(gate.minMs), seconds(byHand.minMs), `max ${gate.peakRssMb.toFixed(1)} MB`),
    '',
    `ratio median(A)/median(B): ${ratio.toFixed(2)}x   goal <= ${GOAL.ratio}x: ${verdict(met.ratio)}`,
    `peak RSS of A: ${gate.peakRssMb.toFixed(1)} MB   goal < ${GOAL.peakRssMb} MB: ${verdict(met.peakRss)}`,
    `rows: ${TABLES.map((t) => `${t} ${rows[t]}`).join(', ')}`,
    `PostgreSQL ${postgres}, Node ${process.version}, ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB`,
  ];
  process.stdout.write(`${lines.join('\n')}\n\n`);
  const json = {
    bench: 'clean',
    runs: figures.gateMs.length,
    rows,
    gate: { ms: figures.gateMs.map((ms) => round(ms, 0)), medianMs: round(gate.medianMs, 0), minMs: round(gate.minMs, 0), peakRssMb: round(gate.peakRssMb, 1) },
    byHand: { ms: figures.byHandMs.map((ms) => round(ms, 0)), medianMs: round(byHand.medianMs, 0), minMs: round(byHand.minMs, 0) },
    ratio: round(ratio, 3),
    goals: { ratio: { max: GOAL.ratio, met: met.ratio }, peakRssMb: { max: GOAL.peakRssMb, met: met.peakRss } },
    postgres,
    node: process.version,
    machine,
  };
  process.stdout.write(`${JSON.stringify(json)}\n`);
  if (!readme) return;
  writeReadme(
    'clean',
    [
      `PostgreSQL ${postgres}, Node ${process.version.slice(1)}, ${machine.cores} cores, medians of ${figures.gateMs.length} runs (\`npm run bench:clean -- --runs ${figures.gateMs.length} --readme\` wrote this):`,
      '',
      '| | wall time | peak RSS |',
      '|---|---|---|',
      `| gate (\`check\` with \`STRIPE_GATE_ON_MISMATCH=clean\`) | ${seconds(gate.medianMs)} | ${gate.peakRssMb.toFixed(1)} MB |`,
      `| the same work by hand in SQL | ${seconds(byHand.medianMs)} | |`,
      `| ratio | **${ratio.toFixed(2)}x** (goal ≤ ${GOAL.ratio}x) | goal < ${GOAL.peakRssMb} MB |`,
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  const { runs, readme } = options();
  const server = await startPostgres();
  try {
    progress(`PostgreSQL ${server.version} started; building the template (${CUSTOMERS} customers, ${ACCOUNTS} accounts)`);
    const expected = await buildTemplate(server.url);
    progress(`template built: ${JSON.stringify(expected)}`);
    const figures: Figures = { gateMs: [], gateRssKb: [], byHandMs: [] };
    for (let run = 1; run <= runs; run++) {
      const a = await onFreshCopy(server.url, `bench_clean_gate_${run}`, (url) => timeGate(url, expected));
      figures.gateMs.push(a.ms);
      figures.gateRssKb.push(a.peakRssKb);
      progress(`run ${run}/${runs} A gate: ${seconds(a.ms)}, peak RSS ${(a.peakRssKb / 1024).toFixed(1)} MB`);
      const b = await onFreshCopy(server.url, `bench_clean_by_hand_${run}`, (url) => timeByHand(url, expected));
      figures.byHandMs.push(b.ms);
      progress(`run ${run}/${runs} B by hand: ${seconds(b.ms)}`);
    }
    report(figures, expected, server.version, readme);
  } finally {
    await server.stop();
  }
}

await main();

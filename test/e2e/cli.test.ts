import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { GATE_VARIABLES } from '../../src/config/env.js';
import { ExitCode } from '../../src/errors.js';
import { runCli } from '../support/cli.js';
import { freshDatabase } from '../support/db.js';
import { LIVE_KEYS, TEST_KEYS } from '../support/gate.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

describe('the command line', () => {
  it.each([[[]], [['check']], [['plan']], [['status']], [['adopt']]])('%j --help lists the variables and exit codes', async (args) => {
    const run = await runCli([...args, '--help'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('STRIPE_GATE_ON_MISMATCH');
    expect(run.stdout).toContain('75 lock not obtained in time');
    expect(run.stdout).toContain('78 invalid configuration');
  });

  it('lists the flags of each command', async () => {
    expect((await runCli(['plan', '--help'], {})).stdout).toContain('--exit-code');
    expect((await runCli(['adopt', '--help'], {})).stdout).toMatch(/--mode <mode>[\s\S]*"test",\s+"live"/);
  });

  it('documents every variable it validates and every exit code, in --help and in the README', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const help = (await runCli(['--help'], {})).stdout + (await runCli(['watch', '--help'], {})).stdout;
    for (const name of [...GATE_VARIABLES, 'DB_CONNECTION', 'LOG_LEVEL', 'LOG_FORMAT', 'APP_SAAS_MODE_ENABLED', 'DATABASE_URL']) {
      expect(readme, `${name} in the README`).toContain(`\`${name}\``);
      expect(help, `${name} in --help`).toContain(name);
    }
    const exitTable = readme.slice(readme.indexOf('## Exit codes'), readme.indexOf('## Troubleshooting'));
    for (const code of Object.values(ExitCode)) {
      expect(exitTable, `exit code ${code} in the README`).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
      expect(help, `exit code ${code} in --help`).toMatch(new RegExp(`\\b${code} [a-z]`));
    }
  });

  it.each([[['check']], [['adopt', '--mode', 'test']], [['plan']], [['status']]])(
    '%j says how it read APP_SAAS_MODE_ENABLED=off (on, as Hi.Events reads it)',
    async (args) => {
      const db = await freshDatabase('empty');
      try {
        const run = await runCli(args, { ...TEST_KEYS, DATABASE_URL: db.url, APP_SAAS_MODE_ENABLED: 'off' });
        expect(run.code).toBe(0);
        expect(run.logs.some((l) => l.level === 40 && String(l.msg).includes('reads this value as true'))).toBe(true);
      } finally {
        await db.close();
      }
    },
  );

  it('prints one JSON envelope for every command and every failure: command, exitCode, message', async () => {
    const db = await freshDatabase('empty');
    try {
      const env = { ...TEST_KEYS, DATABASE_URL: db.url, STRIPE_GATE_HEALTH_FILE: '/nonexistent/health.json' };
      const cases: [string[], number, Record<string, unknown>][] = [
        [['check', '--json'], 0, { decision: 'recorded' }],
        [['plan', '--json'], 0, { decision: 'match' }],
        [['status', '--json'], 0, { stored: { stripeMode: 'test' } }],
        [['adopt', '--mode', 'test', '--force', '--json'], 0, { decision: 'adopted' }],
        [['prune', '--json'], 0, { runs: [], rows: 0 }],
        [['health', '--json'], 0, { healthy: null }],
        [['restore', '--json'], 64, { decision: null, error: 'no cleaned run to restore' }],
      ];
      for (const [args, code, fields] of cases) {
        const run = await runCli(args, env);
        expect(run.code, args.join(' ')).toBe(code);
        const doc = JSON.parse(run.stdout);
        expect(doc, args.join(' ')).toMatchObject({ command: args[0], exitCode: code, message: expect.any(String), ...fields });
      }
    } finally {
      await db.close();
    }
  });

  it('prints its version', async () => {
    const run = await runCli(['--version'], {});
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it.each([[['frobnicate']], [['check', '--frobnicate']], [['adopt']], [['adopt', '--mode', 'production']], [['adopt', '--mode', 'live', '--saas', 'maybe']]])(
    '%j is a usage error (64)',
    async (args) => {
      const run = await runCli(args, { ...TEST_KEYS });
      expect(run.code).toBe(64);
      expect(run.stderr).toMatch(/error:/);
    },
  );

  it('says an unknown command is one, naming the commands', async () => {
    const run = await runCli(['bogus'], { ...TEST_KEYS });
    expect(run.code).toBe(64);
    expect(run.stderr).toContain("error: unknown command 'bogus' (commands: check, plan, status, adopt, restore, prune, preflight, watch, health)");
    expect(run.stderr).not.toContain('too many arguments');
  });
});

describe('invalid configuration', () => {
  it('reports every invalid setting at once, exits 78, echoes no value and changes nothing', async () => {
    const db = await freshDatabase('E');
    try {
      const before = await db.checksums();
      const run = await runCli(['check'], {
        DATABASE_URL: db.url,
        STRIPE_SECRET_KEY: TEST_KEYS.STRIPE_PUBLIC_KEY,
        STRIPE_PUBLIC_KEY: LIVE_KEYS.STRIPE_SECRET_KEY,
        STRIPE_CA_SECRET_KEY: 'sk_org_51OrganisationKey00000',
        STRIPE_WEBHOOK_SECRET: TEST_KEYS.STRIPE_WEBHOOK_SECRET,
        STRIPE_GATE_ON_MISMATCH: 'wipe',
        STRIPE_GATE_DB_WAIT_SECONDS: 'soon',
        STRIPE_GATE_SCHEMA: 'x"; DROP TABLE accounts; --',
        LOG_FORMAT: 'yaml',
      });
      expect(run.code).toBe(78);
      const final = run.logs.at(-1)!;
      expect(final.exitCode).toBe(78);
      expect(final.problems.map((p: string) => p.split(':')[0]).sort()).toEqual(
        [
          'LOG_FORMAT',
          'STRIPE_CA_SECRET_KEY',
          'STRIPE_GATE_DB_WAIT_SECONDS',
          'STRIPE_GATE_ON_MISMATCH',
          'STRIPE_GATE_SCHEMA',
          'STRIPE_PUBLIC_KEY',
          'STRIPE_SECRET_KEY',
        ].sort(),
      );
      expect(run.stderr).not.toContain('51OrganisationKey');
      expect(run.stderr).not.toContain(TEST_KEYS.STRIPE_PUBLIC_KEY);
      expect(run.stdout).toBe('');
      expect(await db.checksums()).toEqual(before);
      expect(await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name LIKE 'x%' OR schema_name = 'stripe_mode_gate'")).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it.each([
    ['STRIPE_SECRET_KEY', 'sk_test_ 51Spaced'],
    ['STRIPE_SECRET_KEY', 'rk_prod_51Restricted'],
    ['STRIPE_PUBLIC_KEY', 'sk_test_51GateTestSecretKey0000000000'],
    ['STRIPE_IE_SECRET_KEY', 'sk_live_51GateLiveSecretKey0000000000'],
    ['STRIPE_GATE_ON_UNKNOWN', 'yes'],
    ['STRIPE_GATE_LOCK_WAIT_SECONDS', '-5'],
    ['STRIPE_GATE_STRIPE_API', 'maybe'],
    ['STRIPE_GATE_STRIPE_API_URL', 'not a url'],
    ['STRIPE_GATE_SCHEMA', 'pg_catalog'],
    ['LOG_LEVEL', 'chatty'],
    ['DB_PORT', '70000'],
    ['DB_CONNECTION', 'mysql'],
    ['DATABASE_URL', 'http://db/x'],
    ['DATABASE_URL', 'postgresql://u:p@db/x?sslmode=sometimes'],
  ])('%s=%j alone: exit 78 naming it', async (variable, value) => {
    const run = await runCli(['check'], {
      ...TEST_KEYS,
      [variable]: value,
      DATABASE_URL: undefined,
      ...(variable === 'DATABASE_URL' ? { DATABASE_URL: value } : {}),
    });
    expect(run.code).toBe(78);
    const problems: string[] = run.logs.at(-1)!.problems;
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.some((p) => p.startsWith(`${variable}: `))).toBe(true);
    for (const problem of problems) expect(problem).toContain(variable);
  });

  it('TLS settings the server can never satisfy are 78 at once, not retried for the whole wait', async () => {
    const db = await freshDatabase('empty');
    try {
      const url = new URL(db.url);
      url.searchParams.set('sslmode', 'require');
      const run = await runCli(['check'], { ...TEST_KEYS, DATABASE_URL: url.toString(), STRIPE_GATE_DB_WAIT_SECONDS: '60' });
      expect(run.code).toBe(78);
      expect(run.logs.at(-1)!.msg).toContain('the server does not offer TLS, but DATABASE_URL asks for it (sslmode=require)');
      expect(run.logs.filter((l) => l.msg === 'database not reachable yet; retrying')).toEqual([]);
    } finally {
      await db.close();
    }
  });
});

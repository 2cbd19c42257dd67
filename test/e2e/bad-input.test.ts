// Bad input through the built CLI, property-tested: exit 78, the variable named, no stack trace, no change to
// the database, no secret echoed.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { brokenPassword, pieces } from '../support/passwords.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase('F');
});
afterAll(() => db.close());

const cases = fc.oneof(
  fc.record({
    variable: fc.constant('STRIPE_SECRET_KEY'),
    value: fc.string({ minLength: 6, maxLength: 60 }).map((s) => `sk_org_${s.replace(/\s/g, 'x')}SecretTail`),
  }),
  fc.record({ variable: fc.constant('STRIPE_SECRET_KEY'), value: fc.stringMatching(/^pk_live_[A-Za-z0-9]{10,30}$/) }),
  fc.record({ variable: fc.constant('STRIPE_PUBLIC_KEY'), value: fc.stringMatching(/^sk_live_[A-Za-z0-9]{10,30}$/) }),
  fc.record({
    variable: fc.constant('STRIPE_GATE_SCHEMA'),
    value: fc.constantFrom('x"; DROP TABLE accounts; --', 'pg_toast', '1abc', 'a'.repeat(64), 'ünï', 'a b'),
  }),
  fc.record({
    variable: fc.constant('STRIPE_GATE_ON_MISMATCH'),
    value: fc.string({ minLength: 1, maxLength: 30 }).filter((v) => !['refuse', 'clean'].includes(v) && v.trim() !== '' && !v.includes('\u0000')),
  }),
  fc.record({ variable: fc.constant('STRIPE_GATE_DB_WAIT_SECONDS'), value: fc.constantFrom('-1', '1.5', '1e3', 'soon', '٣', '9999999999') }),
  fc.record({ variable: fc.constant('DB_PORT'), value: fc.constantFrom('0', '65536', 'abc', '-5', '5432x') }),
);

describe('hostile settings through the CLI', () => {
  it('always exit 78 naming the variable, with no stack trace, no change and no secret echoed', async () => {
    const before = await db.checksums();
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(cases, async ({ variable, value }) => {
        tried++;
        const run = await runCli(['check'], { DATABASE_URL: db.url, STRIPE_SECRET_KEY: 'sk_test_51ValidBaseKey000', [variable]: value });
        expect(run.code).toBe(78);
        const final = run.logs.at(-1)!;
        expect(final.problems.some((p: string) => p.startsWith(`${variable}: `))).toBe(true);
        expect(run.stderr).not.toMatch(/\n\s+at /);
        if (variable.startsWith('STRIPE_') && variable.endsWith('_KEY')) expect(run.stderr + run.stdout).not.toContain(value);
      }),
      { numRuns: 40 },
    );
    expect(tried).toBe(40);
    expect(await db.checksums()).toEqual(before);
    expect(
      await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name NOT IN ('public', 'information_schema', 'pg_catalog', 'pg_toast')"),
    ).toEqual([]);
  }, 60_000);

  it('a DATABASE_URL whose password is not URL-encoded shows no part of it: not on stderr, in --json or in the termination log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smg-url-'));
    const terminationLog = join(dir, 'termination-log');
    try {
      await fc.assert(
        fc.asyncProperty(brokenPassword, async (password) => {
          const url = `postgresql://hievents:${password}@db.internal:5432/hievents`;
          const run = await runCli(['check', '--json'], {
            DATABASE_URL: url,
            STRIPE_SECRET_KEY: 'sk_test_51ValidBaseKey000',
            STRIPE_GATE_DB_WAIT_SECONDS: '0',
            STRIPE_GATE_TERMINATION_LOG: terminationLog,
          });
          expect([69, 78]).toContain(run.code);
          const shown = run.stdout + run.stderr + readFileSync(terminationLog, 'utf8');
          for (const piece of pieces(password)) expect(shown, `"${piece}" of the password was shown`).not.toContain(piece);
        }),
        { numRuns: 25 },
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  }, 120_000);
});

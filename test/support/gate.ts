import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { runCheck } from '../../src/core/check.js';
import { loadConfig } from '../../src/config/env.js';
import { gateLogger } from '../../src/logging.js';
import type { Context } from '../../src/commands/context.js';
import { freshDatabase, type TestDatabase } from './db.js';

/** Keys shaped like real ones, unique enough that a scan of the output for them means something. */
export const TEST_KEYS = {
  STRIPE_SECRET_KEY: 'sk_test_51GateTestSecretKey0000000000',
  STRIPE_PUBLIC_KEY: 'pk_test_51GateTestPublicKey000000000',
  STRIPE_WEBHOOK_SECRET: 'whsec_GateTestWebhookSecret000000',
};
export const LIVE_KEYS = {
  STRIPE_SECRET_KEY: 'sk_live_51GateLiveSecretKey0000000000',
  STRIPE_PUBLIC_KEY: 'pk_live_51GateLivePublicKey000000000',
  STRIPE_WEBHOOK_SECRET: 'whsec_GateLiveWebhookSecret000000',
};

/** Test keys of a second Stripe account, and a new key of the first account. */
export const OTHER_ACCOUNT_KEY = 'sk_test_51GateOtherAccountKey00000000';
export const ROLLED_KEY = 'sk_test_51GateRolledKeySameAccount0000';

/** Every value that must never appear in any output of any test. */
export function secretsUsed(): string[] {
  return [
    TEST_KEYS.STRIPE_SECRET_KEY,
    TEST_KEYS.STRIPE_WEBHOOK_SECRET,
    LIVE_KEYS.STRIPE_SECRET_KEY,
    LIVE_KEYS.STRIPE_WEBHOOK_SECRET,
    OTHER_ACCOUNT_KEY,
    ROLLED_KEY,
    inject('databasePassword'),
  ].filter(Boolean);
}

export interface InProcessGate {
  ctx: Context;
  /** Log lines (JSON), as an operator would see them. */
  output: string[];
  logs(): Record<string, unknown>[];
}

/** A gate context for in-process runs: configuration from `env`, logs and results captured. */
export async function gateContext(env: Record<string, string | undefined>): Promise<InProcessGate> {
  // Stripe is never asked unless a test says where its fake Stripe listens.
  // Switches follow each other within seconds here: the settle time is tested on its own (settle.test.ts).
  const defaults = {
    STRIPE_GATE_HEALTH_FILE: join(tmpdir(), `smg-health-${process.pid}.json`),
    STRIPE_GATE_DB_WAIT_SECONDS: '5',
    STRIPE_GATE_LOCK_WAIT_SECONDS: '10',
    STRIPE_GATE_STRIPE_API: 'off',
    STRIPE_GATE_SETTLE_SECONDS: '0',
    // The webhook checklist asks Stripe on every switch: tested on its own (preflight.test.ts).
    STRIPE_GATE_PREFLIGHT: 'off',
  };
  const config = loadConfig({ ...defaults, ...env }, { terminationLog: null });
  const output: string[] = [];
  const log = await gateLogger({ ...config, log: { level: 'debug', format: 'json' } }, (line) => void output.push(line));
  return {
    ctx: { config, log },
    output,
    logs: () => output.filter((line) => line.startsWith('{"level"')).map((line) => JSON.parse(line)),
  };
}

/** In-process runs against the database `url()` names: the usual steps of the tests, by name. */
export function inProcessGate(url: () => string) {
  const ctx = async (env: Record<string, string>) => (await gateContext({ DATABASE_URL: url(), ...env })).ctx;
  const check = async (env: Record<string, string>) => runCheck(await ctx(env));
  return {
    ctx,
    check,
    adoptTest: () => check({ ...TEST_KEYS, STRIPE_GATE_ON_UNKNOWN: 'adopt' }),
    cleanToLive: () => check({ ...LIVE_KEYS, STRIPE_GATE_ON_MISMATCH: 'clean' }),
  };
}

/** A database of `shape` adopted as test keys (in process), then changed by `statements`. */
export async function adoptedDatabase(shape: Parameters<typeof freshDatabase>[0], statements: string[] = []): Promise<TestDatabase> {
  const db = await freshDatabase(shape);
  await inProcessGate(() => db.url).adoptTest();
  for (const statement of statements) await db.query(statement);
  return db;
}

/** The exit code and message of a run that should fail (exitCode 0 when it did not). */
export function failure(run: Promise<unknown>): Promise<{ exitCode: number | undefined; message: string }> {
  return run.then(
    () => ({ exitCode: 0, message: 'no error' }),
    (e: Error & { exitCode?: number }) => ({ exitCode: e.exitCode, message: e.message }),
  );
}

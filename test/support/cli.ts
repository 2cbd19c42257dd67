import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { secretsUsed } from './gate.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.mjs', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr's JSON log lines, parsed. */
  logs: Record<string, any>[];
  ms: number;
}

/**
 * Starts the built CLI as an operator would: a clean environment holding only `env`. `done` settles when it
 * exits; every run's output is scanned for every secret the tests use.
 */
export function startCli(
  args: string[],
  env: Record<string, string | undefined>,
  as: { uid?: number; gid?: number } = {},
): { child: ChildProcess; done: Promise<CliRun> } {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    ...as,
    // Stripe is never asked unless a test says where its fake Stripe listens.
    env: { PATH: process.env.PATH, STRIPE_GATE_DB_WAIT_SECONDS: '5', STRIPE_GATE_STRIPE_API: 'off', STRIPE_GATE_SETTLE_SECONDS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const done = new Promise<CliRun>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      // A leak fails the test that awaits this run, where it awaits it.
      const leaked = secretsUsed().filter((secret) => stdout.includes(secret) || stderr.includes(secret));
      if (leaked.length > 0) {
        reject(new Error(`the CLI's output holds ${leaked.length} secret(s) of the tests (${args.join(' ')})`));
        return;
      }
      const logs = stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line));
      resolve({ code, stdout, stderr, logs, ms: Date.now() - started });
    });
  });
  return { child, done };
}

/** Runs the built CLI to its end (see startCli). */
export function runCli(args: string[], env: Record<string, string | undefined>, as: { uid?: number; gid?: number } = {}): Promise<CliRun> {
  return startCli(args, env, as).done;
}

/** The JSON document a --json run printed. */
export function json(run: CliRun): any {
  return JSON.parse(run.stdout);
}

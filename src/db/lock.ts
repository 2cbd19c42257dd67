import { LockTimeoutError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { Client } from './connect.js';
import { errorCode, SqlState } from './errors.js';
import { ident } from './sql.js';
import { withTransaction } from './transaction.js';

/**
 * One lock per database for every gate: the first 8 bytes of SHA-256("stripe-mode-gate") read as a signed
 * bigint, so it collides with no other tool's advisory lock by accident.
 */
export const GATE_LOCK_KEY = '5595685873077129548';

/**
 * Runs `fn` in ONE transaction that holds the gate's transaction-level advisory lock, waiting up to
 * `waitSeconds` for another gate to finish (exit 75 after that). Everything a run reads and writes happens in
 * that transaction: behind a transaction pooler (PgBouncer in transaction mode) a transaction is what stays on
 * one server connection, so gates exclude each other there too, and the lock ends with the transaction on
 * every path (commit, rollback, a crashed gate's connection closing) without leaving anything on the pooled
 * connection. The key is a constant, so the first try goes with BEGIN in one round trip.
 */
export async function withGateLock<T>(
  client: Client,
  { lockWaitSeconds: waitSeconds, statementTimeoutSeconds }: { lockWaitSeconds: number; statementTimeoutSeconds: number },
  log: Logger,
  fn: (also: Record<string, unknown>) => Promise<T>,
  also: Record<string, string> = {},
): Promise<T> {
  // The same wait bounds every lock of the run, the gate's and the table locks of a repair (55P03 when it
  // expires), and a statement may take that and STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS (57014 after that);
  // 0 would mean forever to PostgreSQL, and its maximum is 2^31-1 ms.
  const ms = (seconds: number) => `${Math.min(Math.max(seconds * 1000, 1), 2 ** 31 - 1)}ms`;
  const timeouts = `pg_catalog.set_config('lock_timeout', '${ms(waitSeconds)}', true), pg_catalog.set_config('statement_timeout', '${ms(waitSeconds + statementTimeoutSeconds)}', true)`;
  // `also`: the caller's own questions (name -> SQL expression), asked in the same round trip. Their answers
  // hold only when the lock was free at once: after a wait, another gate may have changed them, so `fn`
  // then gets none and asks again.
  const asked = Object.entries(also)
    .map(([name, sql]) => `, ${sql} AS ${ident(name)}`)
    .join('');
  const first = `SELECT ${timeouts}, pg_catalog.pg_try_advisory_xact_lock(${GATE_LOCK_KEY}) AS locked${asked}`;
  return withTransaction(
    client,
    async ([answers]) => {
      if (answers.locked) return fn(answers);
      await waitForLock(client, waitSeconds, log);
      return fn({});
    },
    { first },
  );
}

async function waitForLock(client: Client, waitSeconds: number, log: Logger): Promise<void> {
  log.info({ waitSeconds }, 'another gate holds the lock; waiting for it to finish');
  if (waitSeconds === 0) throw lockTimeout(waitSeconds);
  try {
    await client.query(`SELECT pg_catalog.pg_advisory_xact_lock(${GATE_LOCK_KEY})`);
  } catch (error) {
    if (errorCode(error) === SqlState.lockNotAvailable) throw lockTimeout(waitSeconds);
    throw error;
  }
}

function lockTimeout(waitSeconds: number): LockTimeoutError {
  return new LockTimeoutError(
    `another stripe-mode-gate still held the lock after STRIPE_GATE_LOCK_WAIT_SECONDS=${waitSeconds}s; retrying later helps once it has finished`,
  );
}

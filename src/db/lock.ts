import { LockTimeoutError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { Client } from './connect.js';

/**
 * One lock per database for every gate: the first 8 bytes of SHA-256("stripe-mode-gate") read as a signed
 * bigint, so it collides with no other tool's advisory lock by accident.
 */
export const GATE_LOCK_KEY = '5595685873077129548';

/**
 * Runs `fn` holding the gate's session advisory lock (its functions named with their schema: this runs
 * outside the transactions that pin search_path), waiting up to `waitSeconds` for another gate to
 * release it (exit 75 after that). Released on every path; a crashed gate releases it by disconnecting.
 */
export async function withAdvisoryLock<T>(client: Client, waitSeconds: number, log: Logger, fn: () => Promise<T>): Promise<T> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_catalog.pg_try_advisory_lock($1) AS locked', [GATE_LOCK_KEY]);
  if (!rows[0].locked) {
    log.info({ waitSeconds }, 'another gate holds the lock; waiting for it to finish');
    if (waitSeconds === 0) throw lockTimeout(waitSeconds);
    // lock_timeout bounds the wait on advisory locks too (55P03 lock_not_available when it expires).
    await client.query("SELECT pg_catalog.set_config('lock_timeout', $1, false)", [`${waitSeconds}s`]);
    try {
      await client.query('SELECT pg_catalog.pg_advisory_lock($1)', [GATE_LOCK_KEY]);
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') throw lockTimeout(waitSeconds);
      throw error;
    } finally {
      await client.query('RESET lock_timeout').catch(() => undefined);
    }
  }
  try {
    return await fn();
  } finally {
    // On a lost connection this fails, and the server has released the lock with the session: the error
    // that matters is the one `fn` threw.
    await client.query('SELECT pg_catalog.pg_advisory_unlock($1)', [GATE_LOCK_KEY]).catch(() => undefined);
  }
}

function lockTimeout(waitSeconds: number): LockTimeoutError {
  return new LockTimeoutError(
    `another stripe-mode-gate still held the lock after STRIPE_GATE_LOCK_WAIT_SECONDS=${waitSeconds}s; ` +
      'retrying later helps once it has finished',
  );
}

import type pg from 'pg';
import type { Client } from './connect.js';
import { answerTimedOut } from './errors.js';

/**
 * The settings the gate's SQL relies on, whatever the database or role sets by default:
 * - search_path: only built-in functions and operators; an object in the database (public.to_jsonb(
 *   stripe_customers), say) must not redirect what the gate reads, archives or restores. Every table the gate
 *   names is schema-qualified.
 * - standard_conforming_strings: a backslash in a quoted name is a backslash.
 * - row_security off: a policy hiding rows from the gate's role is an error (42501), never a silent undercount.
 * - idle_in_transaction_session_timeout: a gate that stops talking in the middle of a run (a dead network, a
 *   frozen container) has its transaction rolled back and its locks released by the server after a minute;
 *   a run is idle in its transaction only while it asks Stripe, 12 s at most.
 * Transaction-local, so that a pooled server connection (PgBouncer) keeps its own settings afterwards.
 */
const PIN_SETTINGS = `SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true),
  pg_catalog.set_config('standard_conforming_strings', 'on', true), pg_catalog.set_config('row_security', 'off', true),
  pg_catalog.set_config('idle_in_transaction_session_timeout', '60s', true)`;

export interface TransactionOptions {
  /** 'read only' for runs that write nothing; the default keeps the server's default_transaction_read_only. */
  access?: 'default' | 'read only';
  /** A statement without parameters sent with BEGIN in the same round trip; `fn` gets its rows. */
  first?: string;
}

/**
 * Runs `fn` in one transaction: committed when it returns, rolled back when it throws. A plain BEGIN keeps
 * the server's default_transaction_read_only: the gate never overrides an operator's read-only database.
 */
export async function withTransaction<T>(
  client: Client,
  fn: (first: Record<string, unknown>[]) => Promise<T>,
  { access = 'default', first }: TransactionOptions = {},
): Promise<T> {
  const statements = [access === 'read only' ? 'BEGIN READ ONLY' : 'BEGIN', PIN_SETTINGS, ...(first ? [first] : [])];
  const results = (await client.query(statements.join(';\n'))) as unknown as pg.QueryResult[];
  try {
    const result = await fn(first ? results[results.length - 1].rows : []);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // Without an answer the connection is of no use: closing it rolls back (withClient).
    if (!answerTimedOut(error)) await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Runs `fn` inside the caller's transaction so that a failure of its statements does not abort the rest:
 * what it did is rolled back to the savepoint, and the error is handed to `onError`.
 */
export async function savepoint<T>(client: Client, fn: () => Promise<T>, onError: (error: unknown) => T): Promise<T> {
  await client.query('SAVEPOINT stripe_mode_gate');
  try {
    const result = await fn();
    await client.query('RELEASE SAVEPOINT stripe_mode_gate');
    return result;
  } catch (error) {
    if (answerTimedOut(error)) throw error;
    await client.query('ROLLBACK TO SAVEPOINT stripe_mode_gate');
    return onError(error);
  }
}

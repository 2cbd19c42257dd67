import type { Client } from './connect.js';

/**
 * The settings the gate's SQL relies on, whatever the database or role sets by default:
 * - search_path: only built-in functions and operators; an object in the database (public.to_jsonb(
 *   stripe_customers), say) must not redirect what the gate reads, archives or restores. Every table the gate
 *   names is schema-qualified.
 * - standard_conforming_strings: a backslash in a quoted name is a backslash.
 * - row_security off: a policy hiding rows from the gate's role is an error (42501), never a silent undercount.
 * Transaction-local, so that a pooled server connection (PgBouncer) keeps its own settings afterwards.
 */
const PIN_SETTINGS = `SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true),
  pg_catalog.set_config('standard_conforming_strings', 'on', true), pg_catalog.set_config('row_security', 'off', true)`;

/**
 * Runs `fn` in one transaction: committed when it returns, rolled back when it throws. A plain BEGIN keeps
 * the server's default_transaction_read_only: the gate never overrides an operator's read-only database.
 */
export async function withTransaction<T>(client: Client, fn: () => Promise<T>, access: 'default' | 'read only' = 'default'): Promise<T> {
  await client.query(access === 'read only' ? 'BEGIN READ ONLY' : 'BEGIN');
  try {
    await client.query(PIN_SETTINGS);
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

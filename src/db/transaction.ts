import type { Client } from './connect.js';

/**
 * Only built-in functions and operators inside the gate's transactions: an object in the database
 * (public.to_jsonb(stripe_customers), say) must not redirect what the gate reads, archives or restores.
 * Transaction-local, so that a pooled server connection (PgBouncer) keeps its own search_path afterwards.
 * Every table the gate names is schema-qualified.
 */
const PIN_SEARCH_PATH = "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)";

/**
 * Runs `fn` in one transaction: committed when it returns, rolled back when it throws. A plain BEGIN keeps
 * the server's default_transaction_read_only: the gate never overrides an operator's read-only database.
 */
export async function withTransaction<T>(client: Client, fn: () => Promise<T>, access: 'default' | 'read only' = 'default'): Promise<T> {
  await client.query(access === 'read only' ? 'BEGIN READ ONLY' : 'BEGIN');
  try {
    await client.query(PIN_SEARCH_PATH);
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

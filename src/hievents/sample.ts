import type { Client } from '../db/connect.js';
import { qualified } from '../db/sql.js';
import { HIEVENTS_SCHEMA, type PresentSchema } from './schema.js';

export interface StoredIds {
  /** Newest customers in use, with the connected account they live in (null: the platform account). */
  customers: { id: string; account: string | null }[];
  /** Newest connected accounts in use. */
  accounts: string[];
}

const live = (columns: ReadonlyMap<string, string>) => (columns.has('deleted_at') ? 'deleted_at IS NULL' : 'true');

/** A bounded sample of the Stripe ids the backend would use next, to ask Stripe about. */
export async function sampleStoredIds(client: Client, present: PresentSchema, limit: number): Promise<StoredIds> {
  const sample: StoredIds = { customers: [], accounts: [] };
  const customers = present.get('stripe_customers');
  if (customers) {
    const account = customers.has('stripe_account_id') ? 't.stripe_account_id' : 'NULL';
    const { rows } = await client.query<{ id: string; account: string | null }>(
      `SELECT t.stripe_customer_id AS id, ${account} AS account FROM ${qualified(HIEVENTS_SCHEMA, 'stripe_customers')} t
        WHERE ${live(customers)} ORDER BY t.id DESC LIMIT $1`,
      [limit],
    );
    sample.customers = rows;
  }
  // Since v1.2 the connected account in use is in account_stripe_platforms; before, in accounts.
  const table = present.has('account_stripe_platforms') ? 'account_stripe_platforms' : 'accounts';
  const columns = present.get(table);
  if (columns?.has('stripe_account_id')) {
    const { rows } = await client.query<{ id: string }>(
      `SELECT t.stripe_account_id AS id FROM ${qualified(HIEVENTS_SCHEMA, table)} t
        WHERE t.stripe_account_id IS NOT NULL AND ${live(columns)} ORDER BY t.id DESC LIMIT $1`,
      [limit],
    );
    sample.accounts = rows.map((r) => r.id);
  }
  return sample;
}

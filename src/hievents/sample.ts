import type { Client } from '../db/connect.js';
import { ident, qualified } from '../db/sql.js';
import { HIEVENTS_SCHEMA, REPAIRED, SOFT_DELETE } from './catalogue.js';
import type { PresentSchema } from './schema.js';

export interface StoredIds {
  /** Newest customers in use, with the connected account they live in (null: the platform account). */
  customers: { id: string; account: string | null }[];
  /** Newest connected accounts in use. */
  accounts: string[];
}

/**
 * A bounded sample of the Stripe ids the backend would use next, to ask Stripe about: the newest live rows
 * of each table the catalogue marks for sampling, unless the backend reads that data elsewhere now.
 */
export async function sampleStoredIds(client: Client, present: PresentSchema, limit: number): Promise<StoredIds> {
  const sample: StoredIds = { customers: [], accounts: [] };
  for (const spec of REPAIRED) {
    const columns = present.get(spec.table);
    if (!spec.sample || !columns?.has(spec.sample.id) || (spec.supersededBy && present.has(spec.supersededBy))) continue;
    const { kind, id, account } = spec.sample;
    const accountSql = account && columns.has(account) ? `t.${ident(account)}` : 'NULL';
    const live = columns.has(SOFT_DELETE) ? `t.${ident(SOFT_DELETE)} IS NULL` : 'true';
    const { rows } = await client.query<{ id: string; account: string | null }>(
      `SELECT t.${ident(id)} AS id, ${accountSql} AS account FROM ${qualified(HIEVENTS_SCHEMA, spec.table)} t
        WHERE t.${ident(id)} IS NOT NULL AND ${live} ORDER BY t.id DESC LIMIT $1`,
      [limit],
    );
    if (kind === 'customer') sample.customers.push(...rows);
    else sample.accounts.push(...rows.map((r) => r.id));
  }
  return sample;
}

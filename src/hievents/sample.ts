import type { Client } from '../db/connect.js';
import { ident, literal, qualified } from '../db/sql.js';
import { HIEVENTS_SCHEMA, REPAIRED, SOFT_DELETE } from './catalogue.js';
import type { PresentSchema } from './schema.js';

/** A stored Stripe id: a customer (in the connected account `account`, or null: the platform's) or a connected account. */
export interface StoredId {
  kind: 'customer' | 'account';
  id: string;
  account: string | null;
}

/**
 * The tables the catalogue marks for sampling that the backend reads now (not superseded), each as SQL over
 * alias `t`: its id column, the account column (or NULL), and which rows are live (not soft-deleted).
 */
function sampledTables(present: PresentSchema) {
  return REPAIRED.flatMap((spec) => {
    const columns = present.get(spec.table);
    if (!spec.sample || !columns?.has(spec.sample.id) || (spec.supersededBy && present.has(spec.supersededBy))) return [];
    const { kind, id, account } = spec.sample;
    return [
      {
        table: spec.table,
        from: `${qualified(HIEVENTS_SCHEMA, spec.table)} t`,
        kind,
        column: id,
        id: `t.${ident(id)}`,
        account: account && columns.has(account) ? `t.${ident(account)}` : 'NULL',
        live: columns.has(SOFT_DELETE) ? `t.${ident(SOFT_DELETE)} IS NULL` : 'true',
      },
    ];
  });
}

/**
 * A bounded sample of the Stripe ids the backend would use next, to ask Stripe about: the newest live rows
 * of each table the catalogue marks for sampling, unless the backend reads that data elsewhere now.
 */
export async function sampleStoredIds(client: Client, present: PresentSchema, limit: number): Promise<StoredId[]> {
  const sample: StoredId[] = [];
  for (const { kind, from, id, account, live } of sampledTables(present)) {
    const { rows } = await client.query<{ id: string; account: string | null }>(
      `SELECT ${id} AS id, ${account} AS account FROM ${from} WHERE ${id} IS NOT NULL AND ${live} ORDER BY t.id DESC LIMIT $1`,
      [limit],
    );
    sample.push(...rows.map((r) => ({ kind, ...r })));
  }
  return sample;
}

/** A row written after a repair, with the Stripe id it holds. */
export interface WrittenRow extends StoredId {
  table: string;
  /** The row's primary key, as text. */
  row: string;
  /** The column holding the id. */
  column: string;
}

/**
 * SQL over a table's own columns: the row was written (inserted or updated) by a transaction from `afterXid`
 * on. `age` counts back from now, so a row written since has a smaller age; one frozen over 2^31 transactions
 * ago wraps to a negative age and is older.
 */
export function writtenSince(afterXid: string): string {
  const since = `pg_catalog.age(${literal(afterXid)}::xid)`;
  return `(pg_catalog.age(xmin) <= ${since} AND pg_catalog.age(xmin) >= 0)`;
}

/**
 * The rows holding Stripe ids in use that transactions from `afterXid` on wrote (writtenSince), oldest write
 * first, at most `limit` per table; and how many there are in all.
 */
export async function sampleWrittenAfter(
  client: Client,
  present: PresentSchema,
  afterXid: string,
  limit: number,
): Promise<{ rows: WrittenRow[]; written: number }> {
  const rows: WrittenRow[] = [];
  let written = 0;
  for (const { table, from, kind, column, id, account, live } of sampledTables(present)) {
    const found = await client.query<{ row: string; id: string; account: string | null; written: string }>(
      `SELECT t.id::text AS row, ${id} AS id, ${account} AS account, count(*) OVER () AS written
         FROM ${from} WHERE ${id} IS NOT NULL AND ${live} AND ${writtenSince(afterXid)}
        ORDER BY pg_catalog.age(t.xmin) DESC, t.id LIMIT $1`,
      [limit],
    );
    written += Number(found.rows[0]?.written ?? 0);
    rows.push(...found.rows.map((r) => ({ table, row: r.row, kind, column, id: r.id, account: r.account })));
  }
  return { rows, written };
}

import type { Client } from '../db/connect.js';
import { ident, qualified } from '../db/sql.js';
import { RefusedError } from '../errors.js';
import { HIEVENTS_SCHEMA, type PresentSchema } from '../hievents/schema.js';
import { ACCOUNT_CONNECT_COLUMNS, resetValue } from './plan.js';

type Action = 'delete' | 'reset';

/** What a clean may have archived: anything else in the archive is not put back by the gate. */
const RESTORABLE: Record<string, Action> = {
  stripe_customers: 'delete',
  account_stripe_platforms: 'delete',
  organizer_stripe_platforms: 'delete',
  accounts: 'reset',
};

/**
 * Ways a row put back would collide with a row written since the clean, per table, as a join condition
 * between the current row `c` and the archived row `r`.
 */
const COLLISIONS: Record<string, { on: (columns: ReadonlyMap<string, string>) => string; reason: string }[]> = {
  stripe_customers: [
    { on: () => 'c.id = r.id', reason: 'a row with the same id exists' },
    {
      // The backend finds a customer by email and connected account: two rows would make that ambiguous.
      on: (cols) => `c.email = r.email AND c.deleted_at IS NULL${cols.has('stripe_account_id') ? ' AND c.stripe_account_id IS NOT DISTINCT FROM r.stripe_account_id' : ''}`,
      reason: 'a customer with the same email was created since',
    },
  ],
  account_stripe_platforms: [
    { on: () => 'c.id = r.id', reason: 'a row with the same id exists' },
    { on: () => 'c.stripe_account_id = r.stripe_account_id', reason: 'the same Stripe account is connected again' },
    { on: () => 'c.account_id = r.account_id AND c.deleted_at IS NULL', reason: 'the account has connected Stripe since' },
  ],
  organizer_stripe_platforms: [
    { on: () => 'c.id = r.id', reason: 'a row with the same id exists' },
    { on: () => 'c.organizer_id = r.organizer_id AND c.deleted_at IS NULL', reason: 'the organizer has connected Stripe since' },
  ],
};

export interface Conflict {
  table: string;
  rowId: string;
  reason: string;
}

/**
 * The run's archived rows of one table, typed by the table's own row type, as a CTE named `r`. Materialized,
 * so that joins against the live table can hash rather than scan it once per archived row.
 */
function archivedRows(schema: string, table: string): string {
  const typed = `jsonb_populate_record(NULL::${qualified(HIEVENTS_SCHEMA, table)}, a.old_row)`;
  return `WITH r AS MATERIALIZED (SELECT typed.* FROM ${qualified(schema, 'archive')} a, ${typed} typed
    WHERE a.run_id = $1 AND a.table_name = $2 AND a.action = $3)`;
}

async function archivedTables(client: Client, schema: string, runId: string): Promise<{ table: string; action: Action }[]> {
  const { rows } = await client.query<{ table_name: string; action: Action }>(
    `SELECT DISTINCT table_name, action FROM ${qualified(schema, 'archive')} WHERE run_id = $1 ORDER BY table_name`,
    [runId],
  );
  return rows.map((r) => ({ table: r.table_name, action: r.action }));
}

const connectColumns = (columns: ReadonlyMap<string, string>) => ACCOUNT_CONNECT_COLUMNS.filter((c) => columns.has(c));

/** Every archived row of the run that cannot go back without colliding with a newer one (50 per check at most). */
export async function findConflicts(client: Client, schema: string, runId: string, present: PresentSchema): Promise<Conflict[]> {
  const conflicts: Conflict[] = [];
  for (const { table, action } of await archivedTables(client, schema, runId)) {
    const columns = present.get(table);
    if (RESTORABLE[table] !== action) {
      conflicts.push({ table, rowId: '*', reason: `the gate never archives a ${action} of this table` });
      continue;
    }
    if (!columns) {
      conflicts.push({ table, rowId: '*', reason: 'the table is missing, or of a shape the gate does not know' });
      continue;
    }
    const current = qualified(HIEVENTS_SCHEMA, table);
    const rows = archivedRows(schema, table);
    const changed = connectColumns(columns).map((col) => `c.${ident(col)} IS DISTINCT FROM ${resetValue(col)}`);
    const checks =
      action === 'reset'
        ? [
            { sql: `${rows} SELECT r.id::text AS id FROM r WHERE NOT EXISTS (SELECT 1 FROM ${current} c WHERE c.id = r.id)`, reason: 'the account no longer exists' },
            { sql: `${rows} SELECT r.id::text AS id FROM r JOIN ${current} c ON c.id = r.id WHERE ${changed.join(' OR ')}`, reason: 'the account has Connect values again' },
          ]
        : COLLISIONS[table].map((check) => ({
            sql: `${rows} SELECT DISTINCT r.id::text AS id FROM r JOIN ${current} c ON ${check.on(columns)}`,
            reason: check.reason,
          }));
    for (const check of checks) {
      const found = await client.query<{ id: string }>(`${check.sql} ORDER BY 1 LIMIT 50`, [runId, table, action]);
      conflicts.push(...found.rows.map((row) => ({ table, rowId: row.id, reason: check.reason })));
    }
  }
  return conflicts;
}

/**
 * The columns a deleted row goes back into: those it was archived with that the table still has and that
 * can be written (not generated). A column added since the clean gets its default.
 */
async function insertableColumns(client: Client, schema: string, runId: string, table: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_attribute a
      WHERE a.attrelid = $3::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        AND a.attname IN (SELECT jsonb_object_keys(one.old_row) FROM (
              SELECT old_row FROM ${qualified(schema, 'archive')} WHERE run_id = $1 AND table_name = $2 LIMIT 1) one)
      ORDER BY a.attnum`,
    [runId, table, qualified(HIEVENTS_SCHEMA, table)],
  );
  return rows.map((r) => r.name);
}

const INTEGRITY_VIOLATION = '23';

/**
 * Puts back every row the run archived, typed by the table's own row type: deleted rows are inserted with
 * their ids, reset columns get their old values. Runs inside the caller's transaction; a row the database
 * refuses (a constraint added or a parent row gone since) is a refusal, not an internal error.
 */
export async function putBack(client: Client, schema: string, runId: string, present: PresentSchema): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { table, action } of await archivedTables(client, schema, runId)) {
    const target = qualified(HIEVENTS_SCHEMA, table);
    const rows = archivedRows(schema, table);
    let sql: string;
    if (action === 'delete') {
      const columns = (await insertableColumns(client, schema, runId, table)).map(ident).join(', ');
      sql = `${rows} INSERT INTO ${target} (${columns}) OVERRIDING SYSTEM VALUE SELECT ${columns} FROM r`;
    } else {
      const assignments = connectColumns(present.get(table)!).map((c) => `${ident(c)} = r.${ident(c)}`);
      sql = `${rows} UPDATE ${target} AS t SET ${assignments.join(', ')} FROM r WHERE t.id = r.id`;
    }
    try {
      const result = await client.query(sql, [runId, table, action]);
      counts[table] = result.rowCount ?? 0;
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!code.startsWith(INTEGRITY_VIOLATION)) throw error;
      throw new RefusedError(`Refused: the archived rows of ${table} cannot go back (${(error as Error).message}). Nothing was changed.`);
    }
  }
  return counts;
}

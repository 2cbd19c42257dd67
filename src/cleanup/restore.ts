import type { Client } from '../db/connect.js';
import { errorClass } from '../db/errors.js';
import { ident, literal, qualified } from '../db/sql.js';
import { RefusedError } from '../errors.js';
import { HIEVENTS_SCHEMA, repairedTable } from '../hievents/catalogue.js';
import { presentDefaults } from '../hievents/plan.js';
import type { SchemaCheck } from '../hievents/schema.js';

type Action = 'delete' | 'reset';

export interface Conflict {
  table: string;
  rowId: string;
  reason: string;
}

/**
 * The run's archived rows of one table as a CTE named `r`, typed by the table's own row type; the columns
 * archived as exact text come from that text, so that their values return exactly. Materialized, so that
 * joins against the live table can hash rather than scan it once per archived row. Column names are literals
 * here: the transaction pins standard_conforming_strings (withTransaction).
 */
function archivedRows(schema: string, table: string, tables: Pick<SchemaCheck, 'usable' | 'exactText'>): string {
  const typed = `jsonb_populate_record(NULL::${qualified(HIEVENTS_SCHEMA, table)}, a.old_row)`;
  const exact = tables.exactText.get(table) ?? [];
  const select = [...tables.usable.get(table)!].map(([c, type]) => {
    const name = ident(c);
    if (!exact.includes(c)) return `typed.${name}`;
    const key = literal(c);
    return `CASE WHEN a.raw ? ${key} THEN (a.raw ->> ${key})::${type} ELSE typed.${name} END AS ${name}`;
  });
  return `WITH r AS MATERIALIZED (SELECT ${select.join(', ')} FROM ${qualified(schema, 'archive')} a, ${typed} typed
    WHERE a.run_id = $1 AND a.table_name = $2 AND a.action = $3)`;
}

/** What the archive holds of a run, per table and action. */
export interface ArchivedTable {
  table: string;
  action: Action;
  rows: number;
}

/** What the archive holds of the run: per table and action, how many rows (read once per restore). */
export async function archivedTables(client: Client, schema: string, runId: string): Promise<ArchivedTable[]> {
  const { rows } = await client.query<{ table_name: string; action: Action; rows: number }>(
    `SELECT table_name, action, count(*)::int AS rows FROM ${qualified(schema, 'archive')} WHERE run_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
    [runId],
  );
  return rows.map((r) => ({ table: r.table_name, action: r.action, rows: r.rows }));
}

/** Archived rows that are not what a clean writes: not an object, or not the row their row_id names. */
async function malformedRows(client: Client, schema: string, runId: string): Promise<Conflict[]> {
  const { rows } = await client.query<{ table: string; id: string }>(
    `SELECT table_name AS table, row_id::text AS id FROM ${qualified(schema, 'archive')}
      WHERE run_id = $1 AND (jsonb_typeof(old_row) IS DISTINCT FROM 'object' OR (old_row ->> 'id') IS DISTINCT FROM row_id::text
            OR (raw IS NOT NULL AND jsonb_typeof(raw) <> 'object'))
      ORDER BY 1, 2 LIMIT 50`,
    [runId],
  );
  return rows.map((r) => ({ table: r.table, rowId: r.id, reason: 'the archived row is not a row the gate archived (damaged archive)' }));
}

/** Every archived row of the run that cannot go back without colliding with a newer one (50 per check at most). */
export async function findConflicts(
  client: Client,
  schema: string,
  runId: string,
  archived: ArchivedTable[],
  tables: Pick<SchemaCheck, 'usable' | 'exactText'>,
): Promise<Conflict[]> {
  const conflicts = await malformedRows(client, schema, runId);
  if (conflicts.length > 0) return conflicts;
  for (const { table, action } of archived) {
    const spec = repairedTable(table);
    const columns = tables.usable.get(table);
    if (spec?.repair.action !== action) {
      conflicts.push({ table, rowId: '*', reason: `the gate never archives a ${action} of this table` });
      continue;
    }
    if (!columns) {
      conflicts.push({ table, rowId: '*', reason: 'the table is missing, or of a shape the gate does not know' });
      continue;
    }
    const current = qualified(HIEVENTS_SCHEMA, table);
    const rows = archivedRows(schema, table, tables);
    const has = (c: string) => columns.has(c);
    const changed = Object.entries(presentDefaults(spec, columns)).map(([c, value]) => `c.${ident(c)} IS DISTINCT FROM ${value}`);
    const checks =
      spec.repair.action === 'reset'
        ? [
            { sql: `${rows} SELECT r.id::text AS id FROM r WHERE NOT EXISTS (SELECT 1 FROM ${current} c WHERE c.id = r.id)`, reason: spec.repair.gone },
            { sql: `${rows} SELECT r.id::text AS id FROM r JOIN ${current} c ON c.id = r.id WHERE ${changed.join(' OR ')}`, reason: spec.repair.again },
          ]
        : spec.collisions.map((check) => ({
            sql: `${rows} SELECT DISTINCT r.id::text AS id FROM r JOIN ${current} c ON ${check.on(has)}`,
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

/**
 * Puts back every row the run archived, typed by the table's own row type: deleted rows are inserted with
 * their ids, reset columns get their old values. Runs inside the caller's transaction.
 */
export async function putBack(
  client: Client,
  schema: string,
  runId: string,
  archived: ArchivedTable[],
  tables: Pick<SchemaCheck, 'usable' | 'exactText'>,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { table, action } of archived) {
    const columns = tables.usable.get(table)!;
    const spec = repairedTable(table)!;
    const target = qualified(HIEVENTS_SCHEMA, table);
    const rows = archivedRows(schema, table, tables);
    let sql: string;
    if (spec.repair.action === 'delete') {
      const names = (await insertableColumns(client, schema, runId, table)).map(ident).join(', ');
      sql = `${rows} INSERT INTO ${target} (${names}) OVERRIDING SYSTEM VALUE SELECT ${names} FROM r`;
    } else {
      const assignments = Object.keys(presentDefaults(spec, columns)).map((c) => `${ident(c)} = r.${ident(c)}`);
      sql = `${rows} UPDATE ${target} AS t SET ${assignments.join(', ')} FROM r WHERE t.id = r.id`;
    }
    const result = await client.query(sql, [runId, table, action]);
    counts[table] = result.rowCount ?? 0;
  }
  return counts;
}

/** Data exceptions (22: a value no longer fits, an archived value of another type) and integrity violations (23). */
const UNFIT = ['22', '23'];

/**
 * Runs a restore step; a row the database refuses (a column narrowed, a constraint added or a parent row gone
 * since the clean, a damaged archive) is a refusal naming the cause, not an internal error.
 */
export async function refusingUnfitRows<T>(runId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!UNFIT.includes(errorClass(error))) throw error;
    throw new RefusedError(`Refused: the archived rows of run #${runId} cannot go back as they are (${(error as Error).message}). Nothing was changed.`);
  }
}

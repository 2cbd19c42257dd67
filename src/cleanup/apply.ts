import type { Client } from '../db/connect.js';
import { ident, qualified } from '../db/sql.js';
import { HIEVENTS_SCHEMA, REPAIRED } from '../hievents/catalogue.js';
import type { TargetCount } from '../hievents/inventory.js';
import type { RepairTarget } from '../hievents/plan.js';
import type { PresentSchema } from '../hievents/schema.js';

/** Types whose values to_jsonb does not keep exactly: json's text, and a jsonb 'null' (it becomes SQL NULL). */
export const JSON_TYPES = ['json', 'jsonb'];

/**
 * The exact text of the row's json/jsonb columns (SQL NULL stays JSON null, a jsonb 'null' becomes the
 * string "null"), archived beside to_jsonb of the row so that restore puts back what was there.
 */
function rawSql(columns: ReadonlyMap<string, string> | undefined): string {
  const json = [...(columns ?? [])].filter(([, type]) => JSON_TYPES.includes(type)).map(([c]) => `'${c.replace(/'/g, "''")}', t.${ident(c)}::text`);
  return json.length > 0 ? `pg_catalog.jsonb_build_object(${json.join(', ')})` : 'NULL::jsonb';
}

/**
 * One statement per table: the rows leave the table and land in the archive, in full, in the same statement,
 * so nothing passes through this process and memory does not grow with the row count. pg_catalog is named
 * so that no function of the same name elsewhere can change what is archived.
 */
function repairSql(target: RepairTarget, schema: string, present: PresentSchema): string {
  const table = qualified(HIEVENTS_SCHEMA, target.table);
  const archive = `INSERT INTO ${qualified(schema, 'archive')} (run_id, table_name, row_id, action, old_row, raw)`;
  const saved = `pg_catalog.to_jsonb(t) AS old_row, ${rawSql(present.get(target.table))} AS raw`;
  if (target.action === 'delete') {
    return `WITH gone AS (DELETE FROM ${table} AS t WHERE ${target.where} RETURNING t.id, ${saved})
      ${archive} SELECT $1, $2, id, 'delete', old_row, raw FROM gone`;
  }
  const assignments = Object.entries(target.defaults).map(([c, value]) => `${ident(c)} = ${value}`).join(', ');
  return `WITH old AS (SELECT t.id, ${saved} FROM ${table} AS t WHERE ${target.where} FOR UPDATE),
      changed AS (UPDATE ${table} AS t SET ${assignments} FROM old WHERE t.id = old.id RETURNING old.id, old.old_row, old.raw)
    ${archive} SELECT $1, $2, id, 'reset', old_row, raw FROM changed`;
}

/**
 * A backend still running with other keys (a rolling update) must not write ids that a repair or restore
 * would miss: its writes wait until the transaction commits. Readers are not blocked.
 */
export async function lockRepairedTables(client: Client, tables: string[]): Promise<void> {
  const names = REPAIRED.filter((spec) => tables.includes(spec.table)).map((spec) => qualified(HIEVENTS_SCHEMA, spec.table));
  if (names.length > 0) await client.query(`LOCK TABLE ${names.join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
}

/**
 * Archives and repairs every target under run `runId`. Runs inside the caller's transaction: the archive,
 * the repair and the new marker commit together or not at all. Returns the rows actually touched.
 */
export async function applyRepair(client: Client, schema: string, runId: string, targets: RepairTarget[], present: PresentSchema): Promise<TargetCount[]> {
  const done: TargetCount[] = [];
  await lockRepairedTables(client, targets.map((t) => t.table));
  for (const target of targets) {
    const result = await client.query(repairSql(target, schema, present), [runId, target.table]);
    done.push({ ...target, rows: result.rowCount ?? 0 });
  }
  return done;
}

import type { Client } from '../db/connect.js';
import { ident, qualified } from '../db/sql.js';
import { HIEVENTS_SCHEMA, REPAIRABLE_TABLES } from '../hievents/schema.js';
import type { TargetCount } from '../hievents/inventory.js';
import { resetValue, type RepairTarget } from './plan.js';

/**
 * One statement per table: the rows leave the table and land in the archive, in full, in the same statement,
 * so nothing passes through this process and memory does not grow with the row count.
 */
function repairSql(target: RepairTarget, schema: string): string {
  const table = qualified(HIEVENTS_SCHEMA, target.table);
  const archive = `INSERT INTO ${qualified(schema, 'archive')} (run_id, table_name, row_id, action, old_row)`;
  if (target.action === 'delete') {
    return `WITH gone AS (DELETE FROM ${table} AS t WHERE ${target.where} RETURNING t.id, to_jsonb(t) AS old_row)
      ${archive} SELECT $1, $2, id, 'delete', old_row FROM gone`;
  }
  const assignments = target.columns.map((c) => `${ident(c)} = ${resetValue(c)}`).join(', ');
  return `WITH old AS (SELECT t.id, to_jsonb(t) AS old_row FROM ${table} AS t WHERE ${target.where} FOR UPDATE),
      changed AS (UPDATE ${table} AS t SET ${assignments} FROM old WHERE t.id = old.id RETURNING old.id, old.old_row)
    ${archive} SELECT $1, $2, id, 'reset', old_row FROM changed`;
}

/**
 * A backend still running with other keys (a rolling update) must not write ids that a repair or restore
 * would miss: its writes wait until the transaction commits. Readers are not blocked.
 */
export async function lockRepairedTables(client: Client, tables: string[]): Promise<void> {
  const names = [...new Set(tables)].filter((t) => REPAIRABLE_TABLES.includes(t)).map((t) => qualified(HIEVENTS_SCHEMA, t));
  if (names.length > 0) await client.query(`LOCK TABLE ${names.join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
}

/**
 * Archives and repairs every target under run `runId`. Runs inside the caller's transaction: the archive,
 * the repair and the new marker commit together or not at all. Returns the rows actually touched.
 */
export async function applyRepair(client: Client, schema: string, runId: string, targets: RepairTarget[]): Promise<TargetCount[]> {
  const done: TargetCount[] = [];
  await lockRepairedTables(client, targets.map((t) => t.table));
  for (const target of targets) {
    const result = await client.query(repairSql(target, schema), [runId, target.table]);
    done.push({ ...target, rows: result.rowCount ?? 0 });
  }
  return done;
}

import type { Client } from '../db/connect.js';
import { ident, literal, qualified } from '../db/sql.js';
import { RefusedError, UnavailableError } from '../errors.js';
import { HIEVENTS_SCHEMA, REPAIRED } from '../hievents/catalogue.js';
import { readInventory, type Inventory, type TargetCount } from '../hievents/inventory.js';
import type { RepairTarget } from '../hievents/plan.js';
import { DamagedGateTablesError } from '../marker/store.js';

/**
 * The exact text of the row's columns that to_jsonb does not keep (SQL NULL stays JSON null, a jsonb 'null'
 * becomes the string "null"), archived beside to_jsonb of the row so that restore puts back what was there.
 * Column names are literals here: the transaction pins standard_conforming_strings (withTransaction).
 */
function rawSql(columns: readonly string[]): string {
  const pairs = columns.map((c) => `${literal(c)}, t.${ident(c)}::text`);
  return pairs.length > 0 ? `pg_catalog.jsonb_build_object(${pairs.join(', ')})` : 'NULL::jsonb';
}

/**
 * One statement per table: the rows leave the table and land in the archive, in full, in the same statement,
 * so nothing passes through this process and memory does not grow with the row count. It returns how many
 * rows left and how many the archive took, which must be the same.
 */
function repairSql(target: RepairTarget, schema: string, exactText: readonly string[]): string {
  const table = qualified(HIEVENTS_SCHEMA, target.table);
  const archive = `INSERT INTO ${qualified(schema, 'archive')} (run_id, table_name, row_id, action, old_row, raw)`;
  const saved = `pg_catalog.to_jsonb(t) AS old_row, ${rawSql(exactText)} AS raw`;
  const counted = `SELECT (SELECT count(*) FROM changed)::int AS removed, (SELECT count(*) FROM kept)::int AS archived`;
  if (target.action === 'delete') {
    return `WITH changed AS (DELETE FROM ${table} AS t WHERE ${target.where} RETURNING t.id, ${saved}),
      kept AS (${archive} SELECT $1, $2, id, 'delete', old_row, raw FROM changed RETURNING 1)
      ${counted}`;
  }
  const assignments = Object.entries(target.defaults)
    .map(([c, value]) => `${ident(c)} = ${value}`)
    .join(', ');
  return `WITH old AS (SELECT t.id, ${saved} FROM ${table} AS t WHERE ${target.where} FOR UPDATE),
      changed AS (UPDATE ${table} AS t SET ${assignments} FROM old WHERE t.id = old.id RETURNING old.id, old.old_row, old.raw),
      kept AS (${archive} SELECT $1, $2, id, 'reset', old_row, raw FROM changed RETURNING 1)
      ${counted}`;
}

/**
 * A backend still running with other keys (a rolling update) must not write ids that a repair or restore
 * would miss: its writes wait until the transaction commits. Readers are not blocked.
 */
export async function lockRepairedTables(client: Client, tables: string[]): Promise<void> {
  const names = REPAIRED.filter((spec) => tables.includes(spec.table)).map((spec) => qualified(HIEVENTS_SCHEMA, spec.table));
  if (names.length > 0) await client.query(`LOCK TABLE ${names.join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
}

const counts = (targets: TargetCount[]) => JSON.stringify(targets.map((t) => [t.table, t.rows]));

/**
 * Archives and repairs the tables of `inventory` that have stale rows, under run `runId`. Runs inside the
 * caller's transaction: the archive, the repair and the new marker commit together or not at all. Every table
 * of the scope it may lock is locked, empty ones too, so that no client writes ids the repair would miss
 * (they wait); under the locks, the database must still hold what the decision was made on. Returns the
 * rows touched and the tables locked.
 */
export async function applyRepair(client: Client, schema: string, runId: string, inventory: Inventory): Promise<{ done: TargetCount[]; locked: string[] }> {
  const targets = inventory.stale.filter((t) => t.rows > 0);
  const locked = inventory.stale.filter((t) => t.rows > 0 || !inventory.blocked.has(t.table)).map((t) => t.table);
  await lockRepairedTables(client, locked);
  const now = await readInventory(client, inventory.scope, inventory.only);
  if (counts(now.stale) !== counts(inventory.stale) || now.obstacles.length > 0) {
    // Written between the count and the locks: by a client that goes on writing (then named), or once.
    await refuseWaitingWriters(client, locked);
    throw new UnavailableError('Stripe ids were written while the gate prepared the repair (a backend still running?); nothing was changed, retrying helps');
  }
  const done: TargetCount[] = [];
  for (const target of targets) {
    const sql = repairSql(target, schema, inventory.exactText.get(target.table) ?? []);
    const { rows } = await client.query<{ removed: number; archived: number }>(sql, [runId, target.table]);
    if (rows[0].removed !== rows[0].archived) {
      throw new DamagedGateTablesError(schema, `the archive kept ${rows[0].archived} of the ${rows[0].removed} rows of ${target.table} the repair removed`);
    }
    done.push({ ...target, rows: rows[0].removed });
  }
  return { done, locked };
}

/**
 * The last thing before a repair commits: sessions waiting to write to a table it locked are clients still
 * running with the old configuration (a backend during a rolling update, a queue worker): right after the
 * commit they would write ids of that configuration, which the new marker does not describe. The repair is
 * rolled back instead, naming them. Only writers count (RowExclusiveLock: INSERT, UPDATE, DELETE): a VACUUM or
 * an index build waits too, but writes no id. (New gates wait on the advisory lock, not on these tables.)
 */
export async function refuseWaitingWriters(client: Client, tables: string[]): Promise<void> {
  if (tables.length === 0) return;
  const { rows } = await client.query<{ pid: number; app: string; client: string | null; since: Date; query: string; tables: string[] }>(
    `SELECT a.pid, a.application_name AS app, a.client_addr::text AS client, a.backend_start AS since, left(a.query, 120) AS query,
            array_agg(DISTINCT c.relname::text ORDER BY c.relname::text) AS tables
       FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE NOT l.granted AND l.locktype = 'relation' AND l.mode = 'RowExclusiveLock' AND a.backend_type = 'client backend'
        AND n.nspname = $1 AND c.relname = ANY ($2) AND l.pid <> pg_backend_pid()
      GROUP BY 1, 2, 3, 4, 5 ORDER BY 1`,
    [HIEVENTS_SCHEMA, tables],
  );
  if (rows.length === 0) return;
  const who = rows
    .map(
      (r) =>
        `pid ${r.pid} (${r.app || 'no application_name'}${r.client ? ` from ${r.client}` : ''}, connected since ${new Date(r.since).toISOString()}) waiting to write ${r.tables.join(', ')}: ${r.query}`,
    )
    .join('; ');
  throw new RefusedError(
    `Refused: ${rows.length} other database sessions were waiting to write Stripe ids while the gate repaired them: ${who}. ` +
      'They run with the old configuration (a backend or queue worker that was not stopped) and would write ids of it right after the repair. ' +
      'Stop every backend and worker that runs with the old keys (docker compose stop; or scale the Deployments to 0, or use the Recreate strategy), then start again. Nothing was changed.',
  );
}

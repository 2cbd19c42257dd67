import type { Client } from '../db/connect.js';
import { GateError, ExitCode } from '../errors.js';
import { HIEVENTS_SCHEMA, KNOWN_TABLES, REPAIRED, SHAPES } from './catalogue.js';

/** table -> column -> type (format_type without modifiers), for the known tables that exist. */
export type PresentSchema = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** What PostgreSQL says about one known table. */
interface Relation {
  table: string;
  /** pg_class.relkind: r ordinary, p partitioned, v view, m materialized view, f foreign. */
  kind: string;
  readable: boolean;
  rowSecurity: boolean;
  children: boolean;
  columns: string[];
  types: string[];
  triggers: string[];
  rules: string[];
  referencedBy: string[];
}

export interface SchemaFacts {
  relations: Relation[];
  role: string;
}

/** Columns come from pg_attribute, which shows a table the role may not read (information_schema hides it). */
const FACTS_SQL = `
  SELECT c.relname AS table, c.relkind AS kind, c.relrowsecurity AS "rowSecurity",
         has_table_privilege(c.oid, 'SELECT') AS readable,
         EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid) AS children,
         ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
         ARRAY(SELECT format_type(a.atttypid, NULL) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS types,
         ARRAY(SELECT t.tgname::text FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal ORDER BY 1) AS triggers,
         ARRAY(SELECT r.rulename::text FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN' ORDER BY 1) AS rules,
         ARRAY(SELECT DISTINCT s.relname::text FROM pg_constraint k JOIN pg_class s ON s.oid = k.conrelid
                WHERE k.contype = 'f' AND k.confrelid = c.oid AND k.conrelid <> c.oid ORDER BY 1) AS "referencedBy"
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relname = ANY($2) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   ORDER BY c.relname`;

export async function readSchemaFacts(client: Client): Promise<SchemaFacts> {
  const { rows } = await client.query<Relation>(FACTS_SQL, [HIEVENTS_SCHEMA, KNOWN_TABLES]);
  const role = await client.query<{ role: string }>('SELECT current_user AS role');
  return { relations: rows, role: role.rows[0].role };
}

export interface SchemaCheck {
  /** What the gate may query: a table without a required column is left out, and so is an odd optional column. */
  usable: PresentSchema;
  /** Known tables whose columns differ from every Hi.Events release: their ids cannot all be counted. */
  unknown: string[];
  /** Per repaired table, why the gate may not write to it; it matters only where a repair has rows to touch. */
  obstacles: ReadonlyMap<string, string[]>;
}

const KINDS: Record<string, string> = { p: 'a partitioned table', v: 'a view', m: 'a materialized view', f: 'a foreign table' };

function obstaclesOf(r: Relation, deletes: boolean): string[] {
  const found: string[] = [];
  if (KINDS[r.kind]) found.push(`${r.table} is ${KINDS[r.kind]}, not an ordinary table`);
  if (r.children) found.push(`${r.table} has child tables (inheritance or partitions) that a repair would reach`);
  if (r.rowSecurity) found.push(`${r.table} has row-level security, which may hide rows from the gate`);
  for (const rule of r.rules) found.push(`${r.table} has the rule ${rule}, which would rewrite a repair`);
  for (const trigger of r.triggers) found.push(`${r.table} has the trigger ${trigger}, which would act on a repair`);
  if (deletes) for (const other of r.referencedBy) found.push(`${other} references ${r.table}: deleting its rows would reach ${other}`);
  return found;
}

/**
 * Compares the known tables with the catalogue. A role that may not read a known table is a configuration
 * error (78) naming the grant: counting around it would take a populated install for an empty one.
 */
export function checkSchema({ relations, role }: SchemaFacts): SchemaCheck {
  const unreadable = relations.filter((r) => !r.readable).map((r) => `${HIEVENTS_SCHEMA}.${r.table}`);
  if (unreadable.length > 0) {
    throw new GateError(
      `the database role ${role} may not read ${unreadable.join(', ')}, where Hi.Events keeps Stripe ids: ` +
        `GRANT SELECT ON ${unreadable.join(', ')} TO ${role} (a repair also needs UPDATE and DELETE, a restore INSERT)`,
      ExitCode.config,
    );
  }
  const usable = new Map<string, Map<string, string>>();
  const unknown: string[] = [];
  const obstacles = new Map<string, string[]>();
  for (const r of relations) usable.set(r.table, new Map(r.columns.map((c, i) => [c, r.types[i]])));
  for (const spec of REPAIRED) {
    const relation = relations.find((r) => r.table === spec.table);
    const actual = usable.get(spec.table);
    if (!relation || !actual) continue;
    obstacles.set(spec.table, obstaclesOf(relation, spec.repair.action === 'delete'));
    for (const [column, { types, since }] of Object.entries(spec.columns)) {
      const type = actual.get(column);
      if (type === undefined && since) continue;
      if (type !== undefined && types.includes(type)) continue;
      unknown.push(type === undefined ? `${spec.table}.${column} is missing` : `${spec.table}.${column} is ${type}, expected ${types.join(' or ')}`);
      if (since) actual.delete(column);
      else usable.delete(spec.table);
    }
  }
  return { usable, unknown, obstacles };
}

/** The Hi.Events schema shape the columns show (informational), or null before the backend migrated. */
export function detectShape(present: PresentSchema): { shape: string; releases: string } | null {
  const found = SHAPES.find(({ mark: [table, column] }) => present.has(table) && (!column || present.get(table)!.has(column)));
  return found ? { shape: found.shape, releases: found.releases } : null;
}

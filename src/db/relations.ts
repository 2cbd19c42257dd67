import type { Client } from './connect.js';

/** What PostgreSQL says about one table, whatever the role may read (pg_catalog shows what information_schema hides). */
export interface Relation {
  table: string;
  /** pg_class.relkind: r ordinary, p partitioned, v view, m materialized view, f foreign. */
  kind: string;
  readable: boolean;
  children: boolean;
  columns: string[];
  /** format_type of each column, without modifiers ('character varying'); other schemas' types qualified. */
  types: string[];
  /**
   * Columns whose values to_jsonb does not keep exactly: json (its text), jsonb (a 'null' comes back as SQL
   * NULL), and anything not a plain base type (domains, composites, arrays of those or of json).
   */
  exactText: string[];
  /** An `id` column that is NOT NULL and alone in a unique, non-partial index: rows can be told apart by it. */
  idUnique: boolean;
  triggers: string[];
  rules: string[];
  /** Foreign keys of other tables pointing here, with the columns they reference. */
  referencedBy: { table: string; columns: string[] }[];
  /** The role asking (for messages naming a grant). */
  role: string;
}

const COLUMNS = 'FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped';

const RELATIONS_SQL = `
  SELECT c.relname AS table, c.relkind AS kind, has_table_privilege(c.oid, 'SELECT') AS readable, current_user AS role,
         EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid) AS children,
         ARRAY(SELECT a.attname::text ${COLUMNS} ORDER BY a.attnum) AS columns,
         ARRAY(SELECT format_type(a.atttypid, NULL) ${COLUMNS} ORDER BY a.attnum) AS types,
         ARRAY(SELECT a.attname::text FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                 LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                  AND (coalesce(e.typtype, t.typtype) <> 'b' OR coalesce(e.oid, t.oid) IN ('json'::regtype, 'jsonb'::regtype))
                ORDER BY a.attnum) AS "exactText",
         EXISTS (SELECT 1 FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
                  WHERE x.indrelid = c.oid AND x.indisunique AND x.indpred IS NULL AND x.indnkeyatts = 1
                    AND a.attname = 'id' AND a.attnotnull) AS "idUnique",
         ARRAY(SELECT t.tgname::text FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal ORDER BY 1) AS triggers,
         ARRAY(SELECT r.rulename::text FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN' ORDER BY 1) AS rules,
         coalesce((SELECT jsonb_agg(jsonb_build_object('table', s.relname,
                     'columns', ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = ANY (k.confkey)))
                     ORDER BY s.relname)
                     FROM pg_constraint k JOIN pg_class s ON s.oid = k.conrelid
                    WHERE k.contype = 'f' AND k.confrelid = c.oid AND k.conrelid <> c.oid), '[]') AS "referencedBy"
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relname = ANY ($2) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   ORDER BY c.relname`;

/** The named tables of `schema` that exist. Run it inside a transaction that pins search_path. */
export async function readRelations(client: Client, schema: string, tables: readonly string[]): Promise<Relation[]> {
  return (await client.query<Relation>(RELATIONS_SQL, [schema, tables])).rows;
}

const KINDS: Record<string, string> = { p: 'a partitioned table', v: 'a view', m: 'a materialized view', f: 'a foreign table' };

/**
 * Why the gate may not write to a table: whatever would act on its statements besides the statements
 * themselves. `references` says which foreign keys pointing here the write would reach; `byId`, that the
 * gate finds the table's rows again by their id.
 */
export function obstaclesOf(r: Relation, { references, byId }: { references: (columns: string[]) => boolean; byId: boolean }): string[] {
  const found: string[] = [];
  if (KINDS[r.kind]) found.push(`${r.table} is ${KINDS[r.kind]}, not an ordinary table`);
  if (r.children) found.push(`${r.table} has child tables (inheritance or partitions) that a repair would reach`);
  if (byId && !r.idUnique) found.push(`${r.table} has no unique, not-null id, so its rows cannot be told apart`);
  for (const rule of r.rules) found.push(`${r.table} has the rule ${rule}, which would rewrite a repair`);
  for (const trigger of r.triggers) found.push(`${r.table} has the trigger ${trigger}, which would act on a repair`);
  for (const other of r.referencedBy.filter((ref) => references(ref.columns))) {
    found.push(`${other.table} references ${r.table}: changing its rows would reach ${other.table}`);
  }
  return found;
}

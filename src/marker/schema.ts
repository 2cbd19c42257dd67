import type { Client } from '../db/connect.js';
import { obstaclesOf, readRelations, type Relation } from '../db/relations.js';
import { ident } from '../db/sql.js';
import { DamagedGateTablesError } from './store.js';

/**
 * The gate's own tables, created on the first write. Every statement is idempotent, so a database that an
 * older gate set up is brought up to date the same way.
 */
function schemaDdl(schema: string): string {
  const s = ident(schema);
  return `
    CREATE SCHEMA IF NOT EXISTS ${s};
    CREATE TABLE IF NOT EXISTS ${s}.marker (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      stripe_mode text NOT NULL CHECK (stripe_mode IN ('test', 'live')),
      saas_mode boolean NOT NULL,
      platforms jsonb NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      recorded_by text NOT NULL,
      run_id bigint
    );
    CREATE TABLE IF NOT EXISTS ${s}.run_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      command text NOT NULL,
      decision text NOT NULL,
      marker_before jsonb,
      configured jsonb,
      counts jsonb NOT NULL DEFAULT '{}',
      gate_version text NOT NULL
    );
    ALTER TABLE ${s}.run_log ADD COLUMN IF NOT EXISTS restored_by bigint;
    -- When prune deleted the archive of a cleaned run (it holds customers' names and emails).
    ALTER TABLE ${s}.run_log ADD COLUMN IF NOT EXISTS pruned_at timestamptz;
    -- After a switch: which writes later starts check with Stripe (see Marker.unchecked).
    ALTER TABLE ${s}.marker ADD COLUMN IF NOT EXISTS unchecked jsonb;
    -- No index and no foreign key: a clean writes up to millions of rows here in one statement, and a restore
    -- (rare) can afford to scan.
    CREATE TABLE IF NOT EXISTS ${s}.archive (
      run_id bigint NOT NULL,
      table_name text NOT NULL,
      row_id bigint NOT NULL,
      action text NOT NULL CHECK (action IN ('delete', 'reset')),
      old_row jsonb NOT NULL
    );
    -- The exact text of json/jsonb columns, which to_jsonb does not keep (a jsonb 'null' would come back NULL).
    ALTER TABLE ${s}.archive ADD COLUMN IF NOT EXISTS raw jsonb;
    COMMENT ON TABLE ${s}.marker IS 'stripe-mode-gate: the Stripe configuration the stored Stripe ids were created under';
    COMMENT ON TABLE ${s}.run_log IS 'stripe-mode-gate: every run that recorded, adopted, cleaned, restored or refused';
    COMMENT ON TABLE ${s}.archive IS 'stripe-mode-gate: every row a clean deleted and every row whose values it reset, in full'`;
}

/** The gate's tables as it creates them: column -> type (format_type without modifiers). */
const GATE_TABLES: Record<string, Record<string, string>> = {
  marker: {
    singleton: 'boolean',
    stripe_mode: 'text',
    saas_mode: 'boolean',
    platforms: 'jsonb',
    recorded_at: 'timestamp with time zone',
    recorded_by: 'text',
    run_id: 'bigint',
    unchecked: 'jsonb',
  },
  run_log: {
    id: 'bigint',
    at: 'timestamp with time zone',
    command: 'text',
    decision: 'text',
    marker_before: 'jsonb',
    configured: 'jsonb',
    counts: 'jsonb',
    gate_version: 'text',
    restored_by: 'bigint',
    pruned_at: 'timestamp with time zone',
  },
  archive: { run_id: 'bigint', table_name: 'text', row_id: 'bigint', action: 'text', old_row: 'jsonb', raw: 'jsonb' },
};

function missingSomething(relations: Relation[]): boolean {
  return Object.entries(GATE_TABLES).some(([table, columns]) => {
    const found = relations.find((r) => r.table === table);
    return !found || Object.keys(columns).some((c) => !found.columns.includes(c));
  });
}

/**
 * Makes sure the gate's tables are there and as the gate made them, before it writes. Runs the DDL only when
 * something is missing: CREATE SCHEMA checks the database's CREATE privilege even when the schema exists, and
 * ALTER/COMMENT need ownership and take an exclusive lock even as no-ops. A table of another shape, or one
 * that something else acts on (a trigger on the archive could drop what a repair removes), is a damage.
 * Inside a transaction that pins search_path (withTransaction).
 */
export async function ensureGateSchema(client: Client, schema: string): Promise<void> {
  let relations = await readRelations(client, schema, Object.keys(GATE_TABLES));
  if (missingSomething(relations)) {
    await client.query(schemaDdl(schema));
    relations = await readRelations(client, schema, Object.keys(GATE_TABLES));
  }
  const problems = relations.flatMap((r) => {
    const odd = Object.entries(GATE_TABLES[r.table]).flatMap(([column, type]) => {
      const actual = r.types[r.columns.indexOf(column)];
      return actual === type ? [] : [`${r.table}.${column} is ${actual ?? 'missing'}, expected ${type}`];
    });
    return [...obstaclesOf(r, { byId: false, references: () => false }), ...odd];
  });
  if (problems.length > 0) throw new DamagedGateTablesError(schema, problems.join('; '));
}

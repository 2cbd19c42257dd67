import type { Client } from '../db/connect.js';
import { ident } from '../db/sql.js';

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

/**
 * Runs the DDL only when something is missing: CREATE SCHEMA checks the database's CREATE privilege even
 * when the schema exists, and ALTER/COMMENT need ownership and take an exclusive lock even as no-ops.
 */
export async function ensureGateSchema(client: Client, schema: string): Promise<void> {
  const { rows } = await client.query<{ complete: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND (
       SELECT count(*) FROM information_schema.columns
        WHERE table_schema = $3 AND (table_name, column_name) IN (('run_log', 'restored_by'), ('archive', 'raw'))
     ) = 2 AS complete`,
    [`${ident(schema)}.marker`, `${ident(schema)}.archive`, schema],
  );
  if (!rows[0].complete) await client.query(schemaDdl(schema));
}

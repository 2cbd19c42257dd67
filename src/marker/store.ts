import type { Client } from '../db/connect.js';
import { ident, qualified } from '../db/sql.js';
import { VERSION } from '../version.js';
import type { Marker, StripeState } from './state.js';

/** The gate's own tables, created on the first write; re-running this is harmless. */
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
    COMMENT ON TABLE ${s}.marker IS 'stripe-mode-gate: the Stripe configuration the stored Stripe ids were created under';
    COMMENT ON TABLE ${s}.run_log IS 'stripe-mode-gate: every run that recorded, adopted, cleaned, restored or refused'`;
}

export async function ensureGateSchema(client: Client, schema: string): Promise<void> {
  await client.query(schemaDdl(schema));
}

const UNDEFINED_TABLE = '42P01';
const UNDEFINED_SCHEMA = '3F000';

/** The marker, or null when none was ever written (the gate's tables may not exist: nothing is created). */
export async function readMarker(client: Client, schema: string): Promise<Marker | null> {
  try {
    const { rows } = await client.query<{ stripe_mode: 'test' | 'live'; saas_mode: boolean; platforms: Marker['platforms']; recorded_at: Date; recorded_by: string }>(
      `SELECT stripe_mode, saas_mode, platforms, recorded_at, recorded_by FROM ${qualified(schema, 'marker')}`,
    );
    const row = rows[0];
    if (!row) return null;
    return {
      stripeMode: row.stripe_mode,
      saasMode: row.saas_mode,
      platforms: row.platforms,
      recordedAt: row.recorded_at.toISOString(),
      recordedBy: row.recorded_by,
    };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === UNDEFINED_TABLE || code === UNDEFINED_SCHEMA) return null;
    throw error;
  }
}

export async function writeMarker(client: Client, schema: string, state: StripeState, runId: string): Promise<void> {
  await client.query(
    `INSERT INTO ${qualified(schema, 'marker')} (stripe_mode, saas_mode, platforms, recorded_by, run_id)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (singleton) DO UPDATE SET stripe_mode = EXCLUDED.stripe_mode, saas_mode = EXCLUDED.saas_mode,
       platforms = EXCLUDED.platforms, recorded_at = now(), recorded_by = EXCLUDED.recorded_by, run_id = EXCLUDED.run_id`,
    [state.stripeMode, state.saasMode, JSON.stringify(state.platforms), VERSION, runId],
  );
}

export interface RunRecord {
  command: string;
  decision: string;
  markerBefore: Marker | null;
  configured: StripeState | null;
  counts: unknown;
}

/** Appends to the run log; returns the run's id (a bigint, as text). */
export async function logRun(client: Client, schema: string, run: RunRecord): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO ${qualified(schema, 'run_log')} (command, decision, marker_before, configured, counts, gate_version)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [run.command, run.decision, jsonOrNull(run.markerBefore), jsonOrNull(run.configured), JSON.stringify(run.counts), VERSION],
  );
  return rows[0].id;
}

/** SQL NULL for a missing value, rather than a JSON null. */
function jsonOrNull(value: unknown): string | null {
  return value == null ? null : JSON.stringify(value);
}

export interface RunSummary {
  id: string;
  at: string;
  command: string;
  decision: string;
  gateVersion: string;
}

export async function recentRuns(client: Client, schema: string, limit: number): Promise<RunSummary[]> {
  try {
    const { rows } = await client.query<{ id: string; at: Date; command: string; decision: string; gate_version: string }>(
      `SELECT id, at, command, decision, gate_version FROM ${qualified(schema, 'run_log')} ORDER BY id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ id: r.id, at: r.at.toISOString(), command: r.command, decision: r.decision, gateVersion: r.gate_version }));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === UNDEFINED_TABLE || code === UNDEFINED_SCHEMA) return [];
    throw error;
  }
}

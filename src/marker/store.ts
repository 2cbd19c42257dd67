import type { Client } from '../db/connect.js';
import { qualified } from '../db/sql.js';
import { VERSION } from '../version.js';
import type { Marker, StripeState } from './state.js';

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

/** The counts of a run, once its work is done (a clean knows them only after its statements ran). */
export async function setRunCounts(client: Client, schema: string, runId: string, counts: unknown): Promise<void> {
  await client.query(`UPDATE ${qualified(schema, 'run_log')} SET counts = $2 WHERE id = $1`, [runId, JSON.stringify(counts)]);
}

export interface CleanedRun {
  id: string;
  markerBefore: Marker;
  restoredBy: string | null;
}

/** A cleaned run: the one asked for, or the newest. */
export async function findCleanedRun(client: Client, schema: string, runId?: string): Promise<CleanedRun | null> {
  try {
    const { rows } = await client.query<{ id: string; marker_before: Marker; restored_by: string | null }>(
      `SELECT id, marker_before, restored_by FROM ${qualified(schema, 'run_log')}
        WHERE decision = 'cleaned' AND ($1::bigint IS NULL OR id = $1::bigint) ORDER BY id DESC LIMIT 1`,
      [runId ?? null],
    );
    const row = rows[0];
    return row ? { id: row.id, markerBefore: row.marker_before, restoredBy: row.restored_by } : null;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === UNDEFINED_TABLE || code === UNDEFINED_SCHEMA) return null;
    throw error;
  }
}

export async function markRestored(client: Client, schema: string, runId: string, restoredBy: string): Promise<void> {
  await client.query(`UPDATE ${qualified(schema, 'run_log')} SET restored_by = $2 WHERE id = $1`, [runId, restoredBy]);
}

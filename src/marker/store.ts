import { PLATFORMS } from '../config/stripe.js';
import type { QueryResultRow } from 'pg';
import type { Client } from '../db/connect.js';
import { errorClass, errorCode, SqlState } from '../db/errors.js';
import { literal, qualified } from '../db/sql.js';
import { RefusedError } from '../errors.js';
import { VERSION } from '../version.js';
import type { Marker, StripeState, Unchecked } from './state.js';

/**
 * The gate's tables hold something the gate never writes (edited by hand, or by another program): it will
 * not guess which configuration the stored ids belong to.
 */
export class DamagedGateTablesError extends RefusedError {
  constructor(schema: string, what: string) {
    super(
      `Refused: the gate's own tables in schema ${schema} are damaged (${what}), so the configuration the stored Stripe ids ` +
        `belong to cannot be read. Check them with \`stripe-mode-gate status\`, then record the right configuration with ` +
        '`stripe-mode-gate adopt --force --mode test|live --saas true|false` (a damaged table itself: drop it, the gate creates it again). Nothing was changed.',
    );
  }
}

/**
 * Runs a statement on the gate's tables and returns its rows. A table of another shape (undefined columns,
 * other types, a value the gate never writes, a constraint removed) is a damage, not a bug.
 */
async function gateRows<R extends QueryResultRow>(client: Client, schema: string, sql: string, values: unknown[] = []): Promise<R[]> {
  try {
    return (await client.query<R>(sql, values)).rows;
  } catch (error) {
    if (errorCode(error) === SqlState.insufficientPrivilege || !['42', '22', '23'].includes(errorClass(error))) throw error;
    throw new DamagedGateTablesError(schema, (error as Error).message);
  }
}

/**
 * Whether one of the gate's tables exists. Asked first rather than caught: inside a transaction, a failed
 * statement would abort everything after it.
 */
export async function gateTableExists(client: Client, schema: string, table: string): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>('SELECT pg_catalog.to_regclass($1) IS NOT NULL AS found', [qualified(schema, table)]);
  return rows[0].found;
}

const FINGERPRINT = /^[0-9a-f]{64}$/;
const ACCOUNT = /^acct_[A-Za-z0-9]+$/;

/** A stored configuration exactly as the gate writes it, or what is wrong with it. */
function parseState(value: unknown): StripeState | string {
  const v = value as Partial<Record<keyof StripeState, unknown>> | null;
  if (!v || typeof v !== 'object') return 'not an object';
  if (v.stripeMode !== 'test' && v.stripeMode !== 'live') return `Stripe mode ${JSON.stringify(v.stripeMode)}`;
  if (typeof v.saasMode !== 'boolean') return `SaaS mode ${JSON.stringify(v.saasMode)}`;
  const platforms = v.platforms as Record<string, { accountId?: unknown; keyFingerprint?: unknown; webhookFingerprint?: unknown } | null> | null;
  if (!platforms || typeof platforms !== 'object' || Array.isArray(platforms)) return `platforms ${JSON.stringify(platforms)}`;
  for (const [platform, id] of Object.entries(platforms)) {
    if (!(PLATFORMS as readonly string[]).includes(platform)) return `unknown platform ${JSON.stringify(platform)}`;
    const accountOk = id?.accountId === null || (typeof id?.accountId === 'string' && ACCOUNT.test(id.accountId));
    const fingerprintOk = (f: unknown) => f === null || (typeof f === 'string' && FINGERPRINT.test(f));
    const webhookOk = id?.webhookFingerprint === undefined || fingerprintOk(id.webhookFingerprint);
    if (!accountOk || !fingerprintOk(id?.keyFingerprint) || !webhookOk) return `platform ${platform}: ${JSON.stringify(id)}`;
  }
  return { stripeMode: v.stripeMode, saasMode: v.saasMode, platforms: platforms as StripeState['platforms'] };
}

/**
 * An SQL expression (for a statement the caller sends anyway) telling whether the marker table exists, as
 * readMarker's `known`: the start that finds a match then costs no round trip more than it must.
 */
export function markerExistsSql(schema: string): string {
  return `pg_catalog.to_regclass(${literal(qualified(schema, 'marker'))}) IS NOT NULL`;
}

/**
 * The marker, or null when none was ever written (the gate's tables may not exist: nothing is created).
 * `known`: whether the marker table exists, when the caller asked already (markerExistsSql).
 */
export async function readMarker(client: Client, schema: string, known?: boolean): Promise<Marker | null> {
  if (!(known ?? (await gateTableExists(client, schema, 'marker')))) return null;
  const rows = await gateRows<{
    stripe_mode: unknown;
    saas_mode: unknown;
    platforms: unknown;
    recorded_at: Date;
    recorded_by: string;
    age: number;
    unchecked: unknown;
  }>(
    client,
    schema,
    // `unchecked` through to_jsonb: a marker table of an older gate, without the column, still reads.
    `SELECT stripe_mode, saas_mode, platforms, recorded_at, recorded_by,
            pg_catalog.date_part('epoch', pg_catalog.now() - recorded_at)::float8 AS age,
            pg_catalog.to_jsonb(m) -> 'unchecked' AS unchecked
       FROM ${qualified(schema, 'marker')} m LIMIT 2`,
  );
  if (rows.length === 0) return null;
  if (rows.length > 1) throw new DamagedGateTablesError(schema, 'the marker table holds more than one row');
  const row = rows[0];
  const state = parseState({ stripeMode: row.stripe_mode, saasMode: row.saas_mode, platforms: row.platforms });
  if (typeof state === 'string') throw new DamagedGateTablesError(schema, `the marker has ${state}`);
  const unchecked = row.unchecked as Partial<Record<keyof Unchecked, unknown>> | null;
  const digits = (v: unknown) => typeof v === 'string' && /^\d{1,19}$/.test(v);
  const xid = (v: unknown) => digits(v) && Number(v) < 2 ** 32;
  if (unchecked !== null && !(digits(unchecked?.run) && xid(unchecked?.afterXid))) {
    throw new DamagedGateTablesError(schema, `the marker has unchecked ${JSON.stringify(unchecked)}`);
  }
  return {
    ...state,
    recordedAt: new Date(row.recorded_at).toISOString(),
    recordedBy: String(row.recorded_by),
    ageSeconds: Number(row.age),
    unchecked: unchecked as Unchecked | null,
  };
}

/**
 * Replaces the marker. Inside the caller's transaction; it also mends a marker table that lost its one-row key.
 * `unchecked`: 'switched' when this run moved the marker to another configuration (later starts check what
 * is written from now on), or what the marker being replaced still had to check.
 */
export async function writeMarker(
  client: Client,
  schema: string,
  state: StripeState,
  runId: string,
  unchecked: 'switched' | Unchecked | null = null,
): Promise<void> {
  // The oldest transaction still running: what it writes after the commit is as late as what starts later.
  const xid = 'pg_catalog.txid_snapshot_xmin(pg_catalog.txid_current_snapshot()) % 4294967296';
  const check =
    unchecked === 'switched'
      ? `pg_catalog.jsonb_build_object('run', ${literal(runId)}::text, 'afterXid', (${xid})::text)`
      : unchecked
        ? `pg_catalog.jsonb_build_object('run', ${literal(unchecked.run)}::text, 'afterXid', ${literal(unchecked.afterXid)}::text)`
        : 'NULL';
  await gateRows(client, schema, `DELETE FROM ${qualified(schema, 'marker')}`);
  await gateRows(
    client,
    schema,
    // The moment of writing, not the start of the run's transaction (now()): the settle time counts from here.
    `INSERT INTO ${qualified(schema, 'marker')} (stripe_mode, saas_mode, platforms, recorded_by, run_id, recorded_at, unchecked)
     VALUES ($1, $2, $3, $4, $5, pg_catalog.clock_timestamp(), ${check})`,
    [state.stripeMode, state.saasMode, JSON.stringify(state.platforms), VERSION, runId],
  );
}

/** The writes after the last repair are checked: later starts no longer ask Stripe about them. */
/**
 * Records the webhook secrets' fingerprints the backend runs with now, on a start that matches otherwise: the
 * checklist of the next switch compares against the secret in use before it, not one long replaced.
 */
export async function recordWebhookFingerprints(client: Client, schema: string, platforms: StripeState['platforms']): Promise<void> {
  await gateRows(client, schema, `UPDATE ${qualified(schema, 'marker')} SET platforms = $1`, [JSON.stringify(platforms)]);
}

export async function markChecked(client: Client, schema: string): Promise<void> {
  await gateRows(client, schema, `UPDATE ${qualified(schema, 'marker')} SET unchecked = NULL`);
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
  const rows = await gateRows<{ id: string }>(
    client,
    schema,
    `INSERT INTO ${qualified(schema, 'run_log')} (command, decision, marker_before, configured, counts, gate_version)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [run.command, run.decision, jsonOrNull(run.markerBefore), jsonOrNull(run.configured), JSON.stringify(run.counts), VERSION],
  );
  return String(rows[0].id);
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
  if (!(await gateTableExists(client, schema, 'run_log'))) return [];
  const rows = await gateRows<{ id: string; at: Date; command: string; decision: string; gate_version: string }>(
    client,
    schema,
    `SELECT id, at, command, decision, gate_version FROM ${qualified(schema, 'run_log')} ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ id: String(r.id), at: new Date(r.at).toISOString(), command: r.command, decision: r.decision, gateVersion: r.gate_version }));
}

/** The counts of a run, once its work is done (a clean knows them only after its statements ran). */
export async function setRunCounts(client: Client, schema: string, runId: string, counts: unknown): Promise<void> {
  await gateRows(client, schema, `UPDATE ${qualified(schema, 'run_log')} SET counts = $2 WHERE id = $1`, [runId, JSON.stringify(counts)]);
}

/** The marker a run's log keeps (`marker_before`), exactly as the gate writes one, or what is damaged. */
function keptMarker(schema: string, runId: string, value: unknown): Marker {
  const before = value as Partial<Marker> | null;
  const state = parseState(before);
  if (typeof state === 'string') throw new DamagedGateTablesError(schema, `run #${runId} keeps a marker with ${state}`);
  return { ...state, recordedAt: String(before?.recordedAt ?? ''), recordedBy: String(before?.recordedBy ?? '') };
}

/** The marker a run replaced, as its log keeps it; null when the run is not there (or kept none). */
export async function runMarkerBefore(client: Client, schema: string, runId: string): Promise<Marker | null> {
  const rows = await gateRows<{ marker_before: unknown }>(client, schema, `SELECT marker_before FROM ${qualified(schema, 'run_log')} WHERE id = $1`, [runId]);
  return rows[0]?.marker_before ? keptMarker(schema, runId, rows[0].marker_before) : null;
}

export interface CleanedRun {
  id: string;
  markerBefore: Marker;
  restoredBy: string | null;
  /** When prune deleted its archive (ISO), or null. */
  prunedAt: string | null;
  /** The Hi.Events tables the clean saw (null for runs of older gates, which did not record them). */
  tables: string[] | null;
  /** Rows the clean archived, per table, as its run log says. */
  archived: Record<string, number>;
}

/** A cleaned run: the one asked for, or the newest. */
export async function findCleanedRun(client: Client, schema: string, runId?: string): Promise<CleanedRun | null> {
  if (!(await gateTableExists(client, schema, 'run_log'))) return null;
  const rows = await gateRows<{
    id: string;
    marker_before: unknown;
    restored_by: string | null;
    pruned_at: Date | null;
    counts: { tables?: unknown; repair?: unknown } | null;
  }>(
    client,
    schema,
    // pruned_at through to_jsonb: a run log of an older gate, without the column, still reads.
    `SELECT id, marker_before, restored_by, (pg_catalog.to_jsonb(r) ->> 'pruned_at')::timestamptz AS pruned_at, counts FROM ${qualified(schema, 'run_log')} r
      WHERE decision = 'cleaned' AND ($1::bigint IS NULL OR id = $1::bigint) ORDER BY id DESC LIMIT 1`,
    [runId ?? null],
  );
  const row = rows[0];
  if (!row) return null;
  const tables = Array.isArray(row.counts?.tables) ? row.counts.tables.map(String) : null;
  const repair = (row.counts?.repair ?? {}) as Record<string, { rows?: unknown }>;
  const archived = Object.fromEntries(Object.entries(repair).map(([table, done]) => [table, Number(done?.rows)]));
  return {
    id: String(row.id),
    markerBefore: keptMarker(schema, String(row.id), row.marker_before),
    restoredBy: row.restored_by === null ? null : String(row.restored_by),
    prunedAt: row.pruned_at ? new Date(row.pruned_at).toISOString() : null,
    tables,
    archived,
  };
}

export async function markRestored(client: Client, schema: string, runId: string, restoredBy: string): Promise<void> {
  await gateRows(client, schema, `UPDATE ${qualified(schema, 'run_log')} SET restored_by = $2 WHERE id = $1`, [runId, restoredBy]);
}

export interface Pruned {
  runs: string[];
  rows: number;
}

/**
 * Deletes the archive of cleaned runs older than `days` (null: none by age) and of restored runs (their rows
 * are back in place), and marks those runs pruned. Inside the caller's transaction.
 */
export async function pruneArchive(client: Client, schema: string, days: number | null): Promise<Pruned> {
  const rows = await gateRows<{ runs: string[] | null; rows: number }>(
    client,
    schema,
    `WITH due AS (
       UPDATE ${qualified(schema, 'run_log')} SET pruned_at = pg_catalog.now()
        WHERE decision = 'cleaned' AND pruned_at IS NULL
          AND (restored_by IS NOT NULL OR ($1::int IS NOT NULL AND at < pg_catalog.now() - pg_catalog.make_interval(days => $1::int)))
        RETURNING id),
     gone AS (DELETE FROM ${qualified(schema, 'archive')} WHERE run_id IN (SELECT id FROM due) RETURNING 1)
     SELECT (SELECT array_agg(id::text ORDER BY id) FROM due) AS runs, (SELECT count(*) FROM gone)::int AS rows`,
    [days],
  );
  return { runs: rows[0].runs ?? [], rows: rows[0].rows };
}

export interface ArchiveSize {
  rows: number;
  bytes: number;
  /** When the oldest cleaned run whose archive is kept ran (ISO), or null. */
  oldestRun: string | null;
}

export async function archiveSize(client: Client, schema: string): Promise<ArchiveSize | null> {
  if (!(await gateTableExists(client, schema, 'archive')) || !(await gateTableExists(client, schema, 'run_log'))) return null;
  const rows = await gateRows<{ rows: number; bytes: string; oldest: Date | null }>(
    client,
    schema,
    `SELECT (SELECT count(*) FROM ${qualified(schema, 'archive')})::int AS rows,
            pg_catalog.pg_total_relation_size(${literal(qualified(schema, 'archive'))}::regclass) AS bytes,
            (SELECT min(r.at) FROM ${qualified(schema, 'run_log')} r WHERE r.decision = 'cleaned' AND (pg_catalog.to_jsonb(r) ->> 'pruned_at') IS NULL) AS oldest`,
  );
  const r = rows[0];
  return { rows: r.rows, bytes: Number(r.bytes), oldestRun: r.oldest ? new Date(r.oldest).toISOString() : null };
}

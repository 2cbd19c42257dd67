import { assess, skippedAssessment, type Assessment } from '../assess.js';
import { applyRepair, refuseWaitingWriters } from '../cleanup/apply.js';
import type { Client } from '../db/connect.js';
import { PreflightRefusedError, stopIfAborted } from '../errors.js';
import { savepoint } from '../db/transaction.js';
import { ensureGateSchema } from '../marker/schema.js';
import { configuredState, webhookDrift } from '../marker/state.js';
import { staleScope } from '../decision.js';
import { logRun, markChecked, markerExistsSql, recordWebhookFingerprints, setRunCounts, writeMarker } from '../marker/store.js';
import { changesOf, checklistFailures, decisionReport, explain, type DecisionReport } from '../report.js';
import type { RunContext } from '../context.js';
import { withGateRun } from './context.js';
import { pruneDue } from './prune.js';

export interface CheckResult extends DecisionReport {
  message: string;
}

function resultOf(a: Assessment): CheckResult {
  return { ...decisionReport(a), message: explain(a) };
}

/**
 * Writes what the decision asks for, inside the run's one transaction (withGateLock): the run, the archive
 * and repair of a clean, and the new marker commit together or not at all. Returns the assessment with the
 * rows actually repaired.
 */
async function act(client: Client, ctx: RunContext, a: Assessment): Promise<Assessment> {
  const { schema } = ctx.config.gate;
  const { decision } = a.outcome;
  if (decision === 'match' && a.late?.done) {
    // Written once, when the writes after the last repair are all checked; a read-only database keeps asking.
    await bestEffort(client, ctx, 'record that the writes after the repair are checked', () => markChecked(client, schema));
  }
  const drift = decision === 'match' && a.stored ? webhookDrift(a.stored, a.configured!) : null;
  if (drift) await bestEffort(client, ctx, 'record the new webhook secret in the marker', () => recordWebhookFingerprints(client, schema, drift));
  if (decision === 'match' || decision === 'skipped') return a;
  if (decision === 'refused-mismatch' || decision === 'refused-unknown') {
    await logRefusal(client, ctx, a);
    return a;
  }
  if (decision === 'cleaned') {
    // A gate killed mid-repair must not leave its transaction running on the server (PostgreSQL 14+).
    await savepoint(
      client,
      () => client.query("SELECT pg_catalog.set_config('client_connection_check_interval', '1s', true)"),
      () => undefined,
    );
  }
  await ensureGateSchema(client, schema);
  const runId = await logRun(client, schema, { command: 'check', decision, markerBefore: a.stored, configured: a.configured, counts: changesOf(a) });
  let done = a;
  let locked: string[] = [];
  if (decision === 'cleaned') {
    const { present } = a.inventory!;
    const repaired = await applyRepair(client, schema, runId, a.inventory!);
    done = { ...a, repair: repaired.done };
    locked = repaired.locked;
    // The tables the clean saw tell a later restore whether Hi.Events was upgraded in between.
    await setRunCounts(client, schema, runId, { ...changesOf(done), tables: [...present.keys()] });
  }
  // A switch starts a watch for late writes (late.ts); anything else, a repair of late writes too, keeps the
  // watch the marker had until it is done.
  const pending = a.late ? (a.late.done ? null : { run: a.late.run, afterXid: a.late.afterXid }) : (a.stored?.unchecked ?? null);
  const switched =
    !a.inventory?.only && (decision === 'cleaned' || decision === 'updated') && a.outcome.change !== null && staleScope(a.outcome.change) !== null;
  await writeMarker(client, schema, a.configured!, runId, switched ? 'switched' : pending);
  await refuseWaitingWriters(client, locked);
  return done;
}

/**
 * STRIPE_GATE_PREFLIGHT=refuse: a switch the decision would let through (record, update, clean) is refused,
 * 78, while an item of the webhook checklist fails; before anything is written. A refusal of the decision's
 * own (65, 66) stands as it is, the checklist reported with it.
 */
function refuseUnready(ctx: RunContext, a: Assessment): void {
  if (ctx.config.gate.preflight !== 'refuse' || !a.preflight?.failures || a.outcome.exitCode !== 0) return;
  throw new PreflightRefusedError(checklistFailures(a.preflight));
}

/** A refusal is logged in the run log when the gate may write there; the refusal itself stands regardless. */
async function logRefusal(client: Client, ctx: RunContext, a: Assessment): Promise<void> {
  const { schema } = ctx.config.gate;
  const run = { command: 'check', decision: a.outcome.decision, markerBefore: a.stored, configured: a.configured, counts: changesOf(a) };
  await bestEffort(client, ctx, 'record the refusal in the run log', async () => {
    await ensureGateSchema(client, schema);
    await logRun(client, schema, run);
  });
}

/** A write the run can do without (a note, a bookkeeping step): in a savepoint, a failure only warned of. */
async function bestEffort(client: Client, ctx: RunContext, what: string, write: () => Promise<unknown>): Promise<void> {
  await savepoint(
    client,
    async () => {
      await write();
    },
    (error) => ctx.log.warn({ reason: (error as Error).message }, `could not ${what}`),
  );
}

/**
 * STRIPE_GATE_ARCHIVE_DAYS: each start prunes what is due, in its transaction, a failure only warning. It runs
 * before anything of Hi.Events is locked: nothing may come between a repair's look for waiting writers and
 * its commit. Only where the gate's tables exist (the marker table stands for them).
 */
async function pruneOld(client: Client, ctx: RunContext): Promise<void> {
  const { schema, archiveDays } = ctx.config.gate;
  await bestEffort(client, ctx, 'prune the archive', async () => {
    const pruned = await pruneDue(client, schema, archiveDays);
    if (pruned.runs.length > 0)
      ctx.log.info(
        { pruned: pruned.runs, rows: pruned.rows },
        `pruned the archive of runs older than ${archiveDays} days (STRIPE_GATE_ARCHIVE_DAYS), and of restored runs`,
      );
  });
}

/** The init job (and the watcher's judgement of a container): connect, lock, decide, act, release. */
export async function runCheck(ctx: RunContext): Promise<CheckResult> {
  const { config } = ctx;
  if (!configuredState(config)) return resultOf(skippedAssessment());
  return withGateRun(
    ctx,
    async (client, { marker }) => {
      if (config.gate.archiveDays !== null && marker) await pruneOld(client, ctx);
      const a = await assess(client, ctx, 'when-needed', marker as boolean | undefined);
      refuseUnready(ctx, a);
      stopIfAborted(ctx.signal);
      return resultOf(await act(client, ctx, a));
    },
    { marker: markerExistsSql(config.gate.schema) },
  );
}

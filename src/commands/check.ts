import { assess, skippedAssessment, type Assessment } from '../assess.js';
import { withClient, type Client } from '../db/connect.js';
import { withAdvisoryLock } from '../db/lock.js';
import { withTransaction } from '../db/transaction.js';
import { ensureGateSchema, logRun, writeMarker } from '../marker/store.js';
import { displayState, configuredState } from '../marker/state.js';
import { changesOf, explain } from '../report.js';
import { DECISION_EXIT } from '../decision.js';
import type { CommandOutcome, Context } from './context.js';

/** Repairing (STRIPE_GATE_ON_MISMATCH=clean) is not built yet: a mismatch is refused whatever the setting. */
const CLEAN_AVAILABLE = false;

export interface CheckResult {
  decision: Assessment['outcome']['decision'];
  exitCode: number;
  stored: Assessment['stored'];
  configured: Assessment['configured'];
  changes: ReturnType<typeof changesOf>;
  message: string;
}

function resultOf(a: Assessment): CheckResult {
  return {
    decision: a.outcome.decision,
    exitCode: a.outcome.exitCode,
    stored: displayState(a.stored),
    configured: displayState(a.configured),
    changes: changesOf(a),
    message: explain(a, { cleanAvailable: CLEAN_AVAILABLE }),
  };
}

/** Writes what the decision asks for: the marker (and its run) in one transaction, or a refusal's run. */
async function act(client: Client, ctx: Context, a: Assessment): Promise<void> {
  const { schema } = ctx.config.gate;
  const { decision } = a.outcome;
  if (decision === 'match' || decision === 'skipped') return;
  const run = { command: 'check', decision, markerBefore: a.stored, configured: a.configured, counts: changesOf(a) };
  await withTransaction(client, async () => {
    await ensureGateSchema(client, schema);
    const runId = await logRun(client, schema, run);
    if (decision === 'recorded' || decision === 'adopted' || decision === 'updated') {
      await writeMarker(client, schema, a.configured!, runId);
    }
  });
}

/** The init job: connect, lock, decide, act, release. */
export async function runCheck(ctx: Context): Promise<CheckResult> {
  const { config, log } = ctx;
  for (const warning of config.warnings) log.warn(warning);
  if (!configuredState(config)) {
    return resultOf(skippedAssessment());
  }
  return withClient(config.database, config.gate.dbWaitSeconds, log, (client) =>
    withAdvisoryLock(client, config.gate.lockWaitSeconds, log, async () => {
      let a = await assess(client, config, 'when-needed');
      if (a.outcome.decision === 'cleaned' && !CLEAN_AVAILABLE) {
        a = { ...a, outcome: { ...a.outcome, decision: 'refused-mismatch', exitCode: DECISION_EXIT['refused-mismatch'] } };
      }
      await act(client, ctx, a);
      return resultOf(a);
    }),
  );
}

export async function checkCommand(ctx: Context, options: { json?: boolean }): Promise<CommandOutcome> {
  const result = await runCheck(ctx);
  const level = result.exitCode === 0 ? 'info' : 'error';
  ctx.log[level](
    { decision: result.decision, exitCode: result.exitCode, stored: result.stored, configured: result.configured, changes: result.changes },
    result.message,
  );
  ctx.print(options.json ? JSON.stringify(result, null, 2) : result.message);
  return { exitCode: result.exitCode as CommandOutcome['exitCode'], reason: result.exitCode === 0 ? undefined : result.message };
}

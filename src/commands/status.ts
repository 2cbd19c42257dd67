import { withClient } from '../db/connect.js';
import { withTransaction } from '../db/transaction.js';
import { readInventory, schemaProblems } from '../hievents/inventory.js';
import { detectShape } from '../hievents/schema.js';
import { configuredIdentity } from '../assess.js';
import { displayState, type Marker, type StripeState } from '../marker/state.js';
import { StripeBudget } from '../stripe/api.js';
import { archiveSize, DamagedGateTablesError, readMarker, recentRuns, type ArchiveSize, type RunSummary } from '../marker/store.js';
import { describeState } from '../report.js';
import type { CommandOutcome, Context } from './context.js';

export interface StatusResult {
  stored: Marker | null;
  /** Why the gate's own tables cannot be read (then `stored` is null and `check` refuses), or null. */
  damaged: string | null;
  configured: StripeState | null;
  /** Rows holding Stripe ids in use, per table (accounts: rows with any Connect column set). */
  stripeIds: Record<string, number>;
  history: Record<string, number>;
  /** The Hi.Events schema shape the columns show (null: not migrated yet). */
  shape: { shape: string; releases: string } | null;
  unexpected: string[];
  runs: RunSummary[];
  /** What the archive keeps (customers' names and emails among it); null before any repair. */
  archive: ArchiveSize | null;
}

export async function runStatus(ctx: Context): Promise<StatusResult> {
  const { config, log } = ctx;
  return withClient(config.database, config.gate.dbWaitSeconds, log, async (client) => {
    let damaged: string | null = null;
    // status is where an operator looks first: it shows a damage rather than fail on it.
    const stored = await readMarker(client, config.gate.schema).catch((error: unknown) => {
      if (!(error instanceof DamagedGateTablesError)) throw error;
      damaged = error.message;
      return null;
    });
    const inventory = await withTransaction(client, () => readInventory(client, 'everything'), { access: 'read only' });
    return {
      stored: displayState(stored),
      damaged,
      configured: displayState(await configuredIdentity(config, stored, new StripeBudget(), log)),
      stripeIds: Object.fromEntries(inventory.stale.map((t) => [t.table, t.rows])),
      history: inventory.history,
      shape: detectShape(inventory.present),
      unexpected: schemaProblems(inventory),
      runs: await recentRuns(client, config.gate.schema, 5),
      archive: await archiveSize(client, config.gate.schema),
    };
  });
}

function platformLines(state: StripeState): string[] {
  return Object.entries(state.platforms).map(
    ([platform, id]) => `  ${platform}: key sha256 ${id.keyFingerprint ?? 'unknown'}, account ${id.accountId ?? 'unknown'}`,
  );
}

function render(s: StatusResult): string {
  const table = (counts: Record<string, number>) => Object.entries(counts).map(([t, n]) => `  ${t.padEnd(28)} ${n}`);
  return [
    `marker:     ${s.stored ? `${describeState(s.stored)}; recorded ${s.stored.recordedAt} by stripe-mode-gate ${s.stored.recordedBy}` : (s.damaged ?? 'none')}`,
    ...(s.stored ? platformLines(s.stored) : []),
    `configured: ${s.configured ? describeState(s.configured) : 'no Stripe key'}`,
    ...(s.configured ? platformLines(s.configured) : []),
    `Hi.Events:  ${s.shape ? `schema shape ${s.shape.shape} (as in ${s.shape.releases})` : 'no Stripe tables yet (not migrated)'}`,
    'rows with Stripe ids in use:',
    ...table(s.stripeIds),
    'payment history rows:',
    ...table(s.history),
    ...s.unexpected.map((u) => `unexpected schema: ${u}`),
    `archive:    ${s.archive ? `${s.archive.rows} rows, ${(s.archive.bytes / 1024 / 1024).toFixed(1)} MB; oldest kept run ${s.archive.oldestRun ?? 'none'} (\`stripe-mode-gate prune\`, STRIPE_GATE_ARCHIVE_DAYS)` : 'empty'}`,
    'last runs:',
    ...(s.runs.length ? s.runs.map((r) => `  #${r.id} ${r.at} ${r.command} ${r.decision} (gate ${r.gateVersion})`) : ['  none']),
  ].join('\n');
}

export async function statusCommand(ctx: Context): Promise<CommandOutcome> {
  const status = await runStatus(ctx);
  const message = status.stored ? `marker: ${describeState(status.stored)}` : `marker: ${status.damaged ?? 'none'}`;
  return { exitCode: 0, output: { message, text: render(status), json: status } };
}

import { runStatus, type StatusResult } from '../core/status.js';
import type { StripeState } from '../marker/state.js';
import { describeState } from '../report.js';
import type { CommandOutcome, Context } from './context.js';

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

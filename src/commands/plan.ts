import { runPlan, type PlanResult } from '../core/plan.js';
import { checklistText, describeState } from '../report.js';
import type { CommandOutcome, Context } from './context.js';

function render(plan: PlanResult): string {
  const lines = [
    `check would decide: ${plan.decision} (exit ${plan.exitCode})`,
    `stored:     ${plan.stored ? `${describeState(plan.stored)} (recorded ${plan.stored.recordedAt} by ${plan.stored.recordedBy})` : 'no marker'}`,
    `configured: ${plan.configured ? describeState(plan.configured) : 'no Stripe key'}`,
  ];
  const repair = Object.entries(plan.changes.repair);
  if (repair.length > 0) {
    const how = plan.decision === 'cleaned' ? 'the repair would' : 'with STRIPE_GATE_ON_MISMATCH=clean, the repair would';
    lines.push(`${how}:`);
    for (const [table, { action, rows }] of repair) lines.push(`  ${action} ${rows} rows of ${table}`);
  }
  const history = Object.entries(plan.changes.history);
  if (history.length > 0) {
    lines.push('left unchanged (payment history with ids of the old configuration):');
    for (const [table, rows] of history) lines.push(`  ${rows} rows of ${table}`);
  }
  for (const problem of plan.unexpected) lines.push(`unexpected schema: ${problem}`);
  if (plan.preflight) lines.push(checklistText(plan.preflight));
  return lines.join('\n');
}

export async function planCommand(ctx: Context, options: { exitCode?: boolean }): Promise<CommandOutcome> {
  const plan = await runPlan(ctx);
  const message = `check would decide: ${plan.decision} (exit ${plan.exitCode})`;
  // The document's exitCode is the decision's, as in check's; the process's is 0 unless --exit-code.
  return { exitCode: options.exitCode ? plan.exitCode : 0, output: { message, text: render(plan), json: plan } };
}

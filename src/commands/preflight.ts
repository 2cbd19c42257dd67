import { runPreflight } from '../core/preflight.js';
import { ExitCode } from '../errors.js';
import { displayState } from '../marker/state.js';
import { checklistText } from '../report.js';
import type { CommandOutcome, Context } from './context.js';

/** The webhook checklist: exit 0 when no item fails, 78 when one does. */
export async function preflightCommand(ctx: Context): Promise<CommandOutcome> {
  const { checklist, stored, configured } = await runPreflight(ctx);
  if (!checklist) {
    return { exitCode: ExitCode.ok, output: { message: 'No Stripe secret key is configured: nothing to check.', json: { preflight: null } } };
  }
  const failed = checklist.failures > 0;
  const message = failed
    ? `preflight: ${checklist.failures} of the Stripe switch checklist failed; see the fixes`
    : `preflight: nothing failed (${checklist.warnings} warnings)`;
  return {
    exitCode: failed ? ExitCode.config : ExitCode.ok,
    reason: failed ? message : undefined,
    output: {
      message,
      text: checklistText(checklist),
      json: { preflight: checklist, stored: displayState(stored), configured: displayState(configured) },
      log: { failures: checklist.failures, warnings: checklist.warnings },
    },
  };
}

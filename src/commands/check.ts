import { runCheck } from '../core/check.js';
import { checklistText } from '../report.js';
import type { CommandOutcome, Context } from './context.js';

export async function checkCommand(ctx: Context): Promise<CommandOutcome> {
  const result = await runCheck(ctx);
  const { decision, stored, configured, changes } = result;
  return {
    exitCode: result.exitCode,
    reason: result.exitCode === 0 ? undefined : result.message,
    output: {
      message: result.message,
      text: result.preflight ? `${result.message}\n${checklistText(result.preflight)}` : undefined,
      json: result,
      log: {
        decision,
        stored,
        configured,
        changes,
        ...(result.preflight ? { preflight: { failures: result.preflight.failures, warnings: result.preflight.warnings } } : {}),
      },
    },
  };
}

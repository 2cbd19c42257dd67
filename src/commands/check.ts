import { runCheck } from '../check.js';
import type { CommandOutcome, Context } from './context.js';

export { runCheck, type CheckResult } from '../check.js';

export async function checkCommand(ctx: Context): Promise<CommandOutcome> {
  const result = await runCheck(ctx);
  const level = result.exitCode === 0 ? 'info' : 'error';
  ctx.log[level](
    { decision: result.decision, exitCode: result.exitCode, stored: result.stored, configured: result.configured, changes: result.changes },
    result.message,
  );
  return {
    exitCode: result.exitCode,
    reason: result.exitCode === 0 ? undefined : result.message,
    output: { message: result.message, json: result },
  };
}

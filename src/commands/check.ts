import { runCheck } from '../core/check.js';
import type { CommandOutcome, Context } from './context.js';

export async function checkCommand(ctx: Context): Promise<CommandOutcome> {
  const result = await runCheck(ctx);
  const { decision, stored, configured, changes } = result;
  return {
    exitCode: result.exitCode,
    reason: result.exitCode === 0 ? undefined : result.message,
    output: { message: result.message, json: result, log: { decision, stored, configured, changes } },
  };
}

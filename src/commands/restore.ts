import { runRestore } from '../core/restore.js';
import type { CommandOutcome, Context } from './context.js';

export async function restoreCommand(ctx: Context, options: { run?: string }): Promise<CommandOutcome> {
  const result = await runRestore(ctx, options.run);
  const fields = { decision: 'restored', run: result.run, rows: result.rows };
  return { exitCode: 0, output: { message: result.message, json: { ...fields, restoredBy: result.restoredBy }, log: fields } };
}

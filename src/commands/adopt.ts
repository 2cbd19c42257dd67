import { runAdopt, type AdoptOptions } from '../core/adopt.js';
import { displayState } from '../marker/state.js';
import type { CommandOutcome, Context } from './context.js';

export async function adoptCommand(ctx: Context, options: AdoptOptions): Promise<CommandOutcome> {
  const { state, message } = await runAdopt(ctx, options);
  const fields = { decision: 'adopted', stored: displayState(state) };
  return { exitCode: 0, output: { message, json: fields, log: fields } };
}

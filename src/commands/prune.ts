import { runPrune } from '../core/prune.js';
import { UsageError } from '../errors.js';
import type { CommandOutcome, Context } from './context.js';

export async function pruneCommand(ctx: Context, options: { olderThan?: string }): Promise<CommandOutcome> {
  if (options.olderThan !== undefined && !/^\d{1,5}$/.test(options.olderThan)) throw new UsageError('--older-than takes a whole number of days');
  const days = options.olderThan !== undefined ? Number(options.olderThan) : ctx.config.gate.archiveDays;
  const pruned = await runPrune(ctx, days);
  const age = days === null ? 'restored runs only (no --older-than, STRIPE_GATE_ARCHIVE_DAYS unset)' : `runs older than ${days} days, and restored runs`;
  const message = pruned.runs.length
    ? `Pruned the archive of ${pruned.runs.length} cleaned runs (${pruned.runs.map((r) => `#${r}`).join(', ')}; ${pruned.rows} rows) — ${age}. They can no longer be restored.`
    : `Nothing to prune (${age}).`;
  return { exitCode: 0, output: { message, json: pruned, log: { pruned: pruned.runs, rows: pruned.rows } } };
}

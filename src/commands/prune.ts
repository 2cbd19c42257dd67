import { withClient } from '../db/connect.js';
import { withGateLock } from '../db/lock.js';
import { UsageError } from '../errors.js';
import { ensureGateSchema } from '../marker/schema.js';
import { archiveSize, pruneArchive, type Pruned } from '../marker/store.js';
import type { CommandOutcome, Context } from './context.js';

/**
 * Deletes what the archive keeps of cleaned runs older than `days` (default STRIPE_GATE_ARCHIVE_DAYS; unset:
 * none by age) and of restored runs: the archive holds customers' names and emails. Runs pruned cannot be
 * restored any more; the run log keeps that they were.
 */
export async function runPrune(ctx: Context, days: number | null): Promise<Pruned> {
  const { config, log } = ctx;
  return withClient(config.database, config.gate.dbWaitSeconds, log, (client) =>
    withGateLock(client, config.gate, log, async () => {
      if ((await archiveSize(client, config.gate.schema)) === null) return { runs: [], rows: 0 };
      await ensureGateSchema(client, config.gate.schema);
      return pruneArchive(client, config.gate.schema, days);
    }),
  );
}

export async function pruneCommand(ctx: Context, options: { olderThan?: string }): Promise<CommandOutcome> {
  if (options.olderThan !== undefined && !/^\d{1,5}$/.test(options.olderThan)) throw new UsageError('--older-than takes a whole number of days');
  const days = options.olderThan !== undefined ? Number(options.olderThan) : ctx.config.gate.archiveDays;
  const pruned = await runPrune(ctx, days);
  const age = days === null ? 'restored runs only (no --older-than, STRIPE_GATE_ARCHIVE_DAYS unset)' : `runs older than ${days} days, and restored runs`;
  const message = pruned.runs.length
    ? `Pruned the archive of ${pruned.runs.length} cleaned runs (${pruned.runs.map((r) => `#${r}`).join(', ')}; ${pruned.rows} rows) — ${age}. They can no longer be restored.`
    : `Nothing to prune (${age}).`;
  ctx.log.info({ pruned: pruned.runs, rows: pruned.rows }, message);
  return { exitCode: 0, output: { message, json: pruned } };
}

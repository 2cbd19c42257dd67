import type { Client } from '../db/connect.js';
import { ensureGateSchema } from '../marker/schema.js';
import { gateTableExists, pruneArchive, type Pruned } from '../marker/store.js';
import type { RunContext } from '../context.js';
import { withGateRun } from './context.js';

/**
 * Deletes what the archive keeps of cleaned runs older than `days` (null: none by age) and of restored runs,
 * once the gate's tables are as this gate makes them (a run log of an older gate lacks pruned_at). Inside the
 * caller's transaction; the gate's tables must exist.
 */
export async function pruneDue(client: Client, schema: string, days: number | null): Promise<Pruned> {
  await ensureGateSchema(client, schema);
  return pruneArchive(client, schema, days);
}

/**
 * Deletes what the archive keeps of cleaned runs older than `days` (default STRIPE_GATE_ARCHIVE_DAYS; unset:
 * none by age) and of restored runs: the archive holds customers' names and emails. Runs pruned cannot be
 * restored any more; the run log keeps that they were. A database the gate never wrote to is left as it is.
 */
export async function runPrune(ctx: RunContext, days: number | null): Promise<Pruned> {
  const { schema } = ctx.config.gate;
  return withGateRun(ctx, async (client) => ((await gateTableExists(client, schema, 'run_log')) ? pruneDue(client, schema, days) : { runs: [], rows: 0 }));
}

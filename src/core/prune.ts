import { withClient } from '../db/connect.js';
import { withGateLock } from '../db/lock.js';
import { ensureGateSchema } from '../marker/schema.js';
import { archiveSize, pruneArchive, type Pruned } from '../marker/store.js';
import type { RunContext } from './check.js';

/**
 * Deletes what the archive keeps of cleaned runs older than `days` (default STRIPE_GATE_ARCHIVE_DAYS; unset:
 * none by age) and of restored runs: the archive holds customers' names and emails. Runs pruned cannot be
 * restored any more; the run log keeps that they were.
 */
export async function runPrune(ctx: RunContext, days: number | null): Promise<Pruned> {
  const { config, log } = ctx;
  return withClient(config.database, config.gate.dbWaitSeconds, log, (client) =>
    withGateLock(client, config.gate, log, async () => {
      if ((await archiveSize(client, config.gate.schema)) === null) return { runs: [], rows: 0 };
      await ensureGateSchema(client, config.gate.schema);
      return pruneArchive(client, config.gate.schema, days);
    }),
  );
}

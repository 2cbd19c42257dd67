import { withTransaction } from '../db/transaction.js';
import { readInventory, schemaProblems } from '../hievents/inventory.js';
import { detectShape } from '../hievents/schema.js';
import { configuredIdentity } from '../assess.js';
import { displayState, type Marker, type StripeState } from '../marker/state.js';
import { archiveSize, DamagedGateTablesError, readMarker, recentRuns, type ArchiveSize, type RunSummary } from '../marker/store.js';
import type { RunContext } from '../context.js';
import { stripeBudget, withDatabase } from './context.js';

export interface StatusResult {
  stored: Marker | null;
  /** Why the gate's own tables cannot be read (then `stored` is null and `check` refuses), or null. */
  damaged: string | null;
  configured: StripeState | null;
  /** Rows holding Stripe ids in use, per table (accounts: rows with any Connect column set). */
  stripeIds: Record<string, number>;
  history: Record<string, number>;
  /** The Hi.Events schema shape the columns show (null: not migrated yet). */
  shape: { shape: string; releases: string } | null;
  unexpected: string[];
  runs: RunSummary[];
  /** What the archive keeps (customers' names and emails among it); null before any repair. */
  archive: ArchiveSize | null;
}

export async function runStatus(ctx: RunContext): Promise<StatusResult> {
  const { config, log } = ctx;
  return withDatabase(ctx, async (client) => {
    let damaged: string | null = null;
    // status is where an operator looks first: it shows a damage rather than fail on it.
    const stored = await readMarker(client, config.gate.schema).catch((error: unknown) => {
      if (!(error instanceof DamagedGateTablesError)) throw error;
      damaged = error.message;
      return null;
    });
    const inventory = await withTransaction(client, () => readInventory(client, 'everything'), { access: 'read only' });
    return {
      stored: displayState(stored),
      damaged,
      configured: displayState(await configuredIdentity(config, stored, stripeBudget(ctx), log)),
      stripeIds: Object.fromEntries(inventory.stale.map((t) => [t.table, t.rows])),
      history: inventory.history,
      shape: detectShape(inventory.present),
      unexpected: schemaProblems(inventory),
      runs: await recentRuns(client, config.gate.schema, 5),
      archive: await archiveSize(client, config.gate.schema),
    };
  });
}

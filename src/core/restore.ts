import { lockRepairedTables, refuseWaitingWriters } from '../cleanup/apply.js';
import { archivedTables, findConflicts, putBack, refusingUnfitRows } from '../cleanup/restore.js';
import type { Client } from '../db/connect.js';
import { compare, staleScope } from '../decision.js';
import { RefusedError, UsageError } from '../errors.js';
import { repairedTable } from '../hievents/catalogue.js';
import { checkSchema, readSchemaFacts, type SchemaCheck } from '../hievents/schema.js';
import { ensureGateSchema } from '../marker/schema.js';
import { readInventory } from '../hievents/inventory.js';
import { configuredIdentity } from '../assess.js';
import type { Marker } from '../marker/state.js';
import { findCleanedRun, logRun, markRestored, readMarker, writeMarker, type CleanedRun } from '../marker/store.js';
import { describeRows, describeState } from '../report.js';
import type { RunContext } from '../context.js';
import { stripeBudget, withGateRun } from './context.js';

export interface RestoreResult {
  run: string;
  restoredBy: string;
  rows: Record<string, number>;
  message: string;
}

/**
 * Puts back what a cleaned run archived and the marker it replaced, in one transaction under the lock.
 * Refused (65) unless the backend is configured as that older marker says, or when a row would collide.
 */
export async function runRestore(ctx: RunContext, runId?: string): Promise<RestoreResult> {
  const { config, log } = ctx;
  const { schema } = config.gate;
  if (runId !== undefined && !/^\d{1,18}$/.test(runId)) throw new UsageError(`--run takes a run id (a number), as \`status\` lists them`);
  return withGateRun(ctx, async (client) => {
    const run = await findCleanedRun(client, schema, runId);
    if (!run) throw new UsageError(runId ? `run #${runId} is not a cleaned run` : 'no cleaned run to restore');
    if (run.restoredBy) throw new UsageError(`run #${run.id} was already restored (by run #${run.restoredBy})`);
    if (run.prunedAt) {
      throw new UsageError(
        `run #${run.id} was pruned on ${run.prunedAt} (\`stripe-mode-gate prune\` or STRIPE_GATE_ARCHIVE_DAYS): its archive is gone, nothing is left to put back`,
      );
    }
    const older = run.markerBefore;
    const configured = await configuredIdentity(config, older, stripeBudget(ctx), log);
    const change = configured && compare(older, configured);
    if (!configured || (change !== 'none' && change !== 'identity')) {
      throw new RefusedError(
        `Refused: run #${run.id} removed ids created under ${describeState(older)}, but the backend is configured with ` +
          `${configured ? describeState(configured) : 'no Stripe key'}. Putting them back now would strand them again. ` +
          `Configure ${describeState(older)} first, then run \`stripe-mode-gate restore --run ${run.id}\`. Nothing was changed.`,
      );
    }
    const markerNow = await readMarker(client, schema);
    return refusingUnfitRows(run.id, async () => {
      // The archive must be as the gate writes it (an older gate's lacks a column) before it is read.
      await ensureGateSchema(client, schema);
      const tables = checkSchema(await readSchemaFacts(client));
      const archived = await archivedTables(client, schema, run.id);
      refuseIncomplete(run, archived);
      refuseUnwritable(
        run,
        tables,
        archived.map((t) => t.table),
      );
      // A backend still running must not write rows between the checks and the put-back.
      await lockRepairedTables(
        client,
        archived.map((t) => t.table),
      );
      await refuseMixing(client, run.id, markerNow, older);
      // Right after a clean the planner has no statistics for the archive and takes its rows for one:
      // a nested loop would then scan the live table once per archived row. Every statement here is a bulk
      // set operation, for which hashing is right.
      await client.query("SELECT set_config('enable_nestloop', 'off', true)");
      const conflicts = await findConflicts(client, schema, run.id, archived, tables);
      if (conflicts.length > 0) {
        const list = conflicts.map((c) => `${c.table} id ${c.rowId}: ${c.reason}`).join('; ');
        throw new RefusedError(
          `Refused: ${conflicts.length} archived rows of run #${run.id} would collide with rows written since the clean (${list}). ` +
            'Remove or reconcile those rows first, then run restore again. Nothing was changed.',
        );
      }
      const rows = await putBack(client, schema, run.id, archived, tables);
      const restoredBy = await logRun(client, schema, {
        command: 'restore',
        decision: 'restored',
        markerBefore: markerNow,
        configured,
        counts: { run: run.id, rows },
      });
      await markRestored(client, schema, run.id, restoredBy);
      await writeMarker(client, schema, older, restoredBy);
      // As after a repair: a client waiting to write would write ids of the newer configuration next to these.
      await refuseWaitingWriters(
        client,
        archived.map((t) => t.table),
      );
      const total = Object.values(rows).reduce((a, b) => a + b, 0);
      const message = `Restored run #${run.id}: ${total} rows put back (${Object.entries(rows)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ')}) and the marker ${describeState(older)}.`;
      return { run: run.id, restoredBy, rows, message };
    });
  });
}

/** The archive must hold every row the run's log says the clean archived: nothing lost, nothing added. */
function refuseIncomplete(run: CleanedRun, archived: { table: string; rows: number }[]): void {
  const held = Object.fromEntries(archived.map((t) => [t.table, t.rows]));
  const tables = [...new Set([...Object.keys(run.archived), ...Object.keys(held)])].sort();
  const differ = tables.filter((t) => (run.archived[t] ?? 0) !== (held[t] ?? 0));
  if (differ.length === 0) return;
  const list = differ.map((t) => `${t}: ${held[t] ?? 0} of ${run.archived[t] ?? 0}`).join(', ');
  throw new RefusedError(
    `Refused: the archive of run #${run.id} does not hold what the clean archived (${list}): it was changed since, ` +
      'and putting back part of a run would leave the rest stale. Nothing was changed.',
  );
}

/**
 * What the schema allows: every archived table must be of a shape the gate knows and one it may write, and
 * the backend must still read the data where it goes back to (an upgrade since the clean may have moved it).
 */
function refuseUnwritable(run: CleanedRun, { usable, unknown, restoreObstacles }: SchemaCheck, archived: string[]): void {
  const problems: string[] = [];
  for (const table of archived) {
    problems.push(...unknown.filter((u) => u.startsWith(`${table}.`)), ...(restoreObstacles.get(table) ?? []));
    const newer = repairedTable(table)?.supersededBy;
    // Older gates did not record the tables they saw: the archive shows whether `newer` was cleaned.
    const sawNewer = run.tables ? run.tables.includes(newer ?? '') : archived.includes(newer ?? '');
    if (newer && usable.has(newer) && !sawNewer) {
      problems.push(
        `run #${run.id} archived ${table} before Hi.Events kept that data in ${newer} (an upgrade since the clean): ` +
          `the backend reads ${newer} now, so the values put back would reach no one; connect Stripe again in Hi.Events instead`,
      );
    }
  }
  if (problems.length === 0) return;
  throw new RefusedError(`Refused: run #${run.id} cannot be restored into this database: ${problems.join('; ')}. Nothing was changed.`);
}

/**
 * Ids written since the clean, under the current marker's configuration, would sit next to the restored
 * ones, and the marker put back would hide them from `check`. They have to go first, archived like any other.
 */
async function refuseMixing(client: Client, runId: string, markerNow: Marker | null, older: Marker): Promise<void> {
  const scope = markerNow ? staleScope(compare(markerNow, older)) : null;
  if (!markerNow || !scope) return;
  const newer = (await readInventory(client, scope)).stale.filter((t) => t.rows > 0);
  if (newer.length === 0) return;
  throw new RefusedError(
    `Refused: since run #${runId}, the database got Stripe ids under ${describeState(markerNow)}: ${describeRows(newer)}. ` +
      `Restoring now would mix them with the ids of ${describeState(older)}. With the backend configured as that again, ` +
      `run \`stripe-mode-gate check\` once with STRIPE_GATE_ON_MISMATCH=clean (it archives them too), then \`stripe-mode-gate restore --run ${runId}\`. Nothing was changed.`,
  );
}

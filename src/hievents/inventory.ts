import type { Client } from '../db/connect.js';
import { qualified } from '../db/sql.js';
import { HIEVENTS_SCHEMA } from './catalogue.js';
import { historySets, repairTargets, type RepairTarget, type RowSet, type RowsOnly, type StaleScope } from './plan.js';
import { checkSchema, readSchemaFacts, type PresentSchema } from './schema.js';

export interface TargetCount extends RepairTarget {
  rows: number;
}

/** What the database holds: the known tables present and how many rows of each kind carry Stripe ids. */
export interface Inventory {
  present: PresentSchema;
  /** Per table, the columns a repair archives as exact text too. */
  exactText: ReadonlyMap<string, readonly string[]>;
  scope: StaleScope;
  /** The rows the inventory is restricted to, per table (late writes), or all. */
  only?: RowsOnly;
  /** Rows in the scope that hold Stripe ids in use: what a repair of that scope would touch. */
  stale: TargetCount[];
  history: Record<string, number>;
  /** Known tables of a shape no Hi.Events release has: their ids cannot all be counted. */
  unknown: string[];
  /** Why a repair may not write to a table, for the tables with rows in `stale` only. */
  obstacles: string[];
  /** Tables of the scope that something else acts on, with stale rows or not: the gate does not lock them. */
  blocked: ReadonlySet<string>;
}

/** Counts every set of rows in one round trip. */
async function countRows(client: Client, sets: RowSet[]): Promise<number[]> {
  if (sets.length === 0) return [];
  const columns = sets.map((set, i) => `(SELECT count(*) FROM ${qualified(HIEVENTS_SCHEMA, set.table)} WHERE ${set.where}) AS c${i}`);
  const { rows } = await client.query<Record<string, string>>(`SELECT ${columns.join(', ')}`);
  return sets.map((_, i) => Number(rows[0][`c${i}`]));
}

/**
 * Counts the rows a repair of `scope` would touch, and the payment history, in one round trip. Inside a
 * transaction that pins search_path (withTransaction).
 */
export async function readInventory(client: Client, scope: StaleScope, only?: RowsOnly): Promise<Inventory> {
  const { usable: present, exactText, unknown, obstacles } = checkSchema(await readSchemaFacts(client));
  const targets = repairTargets(scope, present, only);
  const history = historySets(present);
  const counts = await countRows(client, [...targets, ...history]);
  const stale = targets.map((target, i) => ({ ...target, rows: counts[i] }));
  return {
    present,
    exactText,
    scope,
    only,
    stale,
    history: Object.fromEntries(history.map((h, i) => [h.table, counts[targets.length + i]])),
    unknown,
    obstacles: stale.filter((t) => t.rows > 0).flatMap((t) => obstacles.get(t.table) ?? []),
    blocked: new Set(stale.filter((t) => (obstacles.get(t.table) ?? []).length > 0).map((t) => t.table)),
  };
}

export function totalRows(targets: TargetCount[]): number {
  return targets.reduce((sum, target) => sum + target.rows, 0);
}

/** Everything about the schema that keeps the gate from a repair, in words. */
export function schemaProblems(inventory: Inventory | null): string[] {
  return inventory ? [...inventory.unknown, ...inventory.obstacles] : [];
}

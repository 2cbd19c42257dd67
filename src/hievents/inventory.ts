import { repairTargets, historySets, type RepairTarget, type RowSet, type StaleScope } from '../cleanup/plan.js';
import type { Client } from '../db/connect.js';
import { qualified } from '../db/sql.js';
import { checkShapes, HIEVENTS_SCHEMA, readPresentSchema, type PresentSchema } from './schema.js';

export interface TargetCount extends RepairTarget {
  rows: number;
}

/** What the database holds: the known tables present and how many rows of each kind carry Stripe ids. */
export interface Inventory {
  present: PresentSchema;
  /** Rows that hold Stripe ids in use, per scope (what a repair of that scope would touch). */
  stale: Record<StaleScope, TargetCount[]>;
  history: Record<string, number>;
  unexpected: string[];
}

/** Counts every set of rows in one round trip. */
async function countRows(client: Client, sets: RowSet[]): Promise<number[]> {
  if (sets.length === 0) return [];
  const columns = sets.map(
    (set, i) => `(SELECT count(*) FROM ${qualified(HIEVENTS_SCHEMA, set.table)} WHERE ${set.where}) AS c${i}`,
  );
  const { rows } = await client.query<Record<string, string>>(`SELECT ${columns.join(', ')}`);
  return sets.map((_, i) => Number(rows[0][`c${i}`]));
}

export async function readInventory(client: Client): Promise<Inventory> {
  const { usable: present, unexpected } = checkShapes(await readPresentSchema(client));
  const everything = repairTargets('everything', present);
  const connect = repairTargets('connect', present);
  const history = historySets(present);
  const counts = await countRows(client, [...everything, ...connect, ...history]);
  const take = <T extends RowSet>(list: T[], offset: number) => list.map((set, i) => ({ ...set, rows: counts[offset + i] }));
  return {
    present,
    stale: { everything: take(everything, 0), connect: take(connect, everything.length) },
    history: Object.fromEntries(take(history, everything.length + connect.length).map((h) => [h.table, h.rows])),
    unexpected,
  };
}

export function totalRows(targets: TargetCount[]): number {
  return targets.reduce((sum, target) => sum + target.rows, 0);
}

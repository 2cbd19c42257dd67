import { ident } from '../db/sql.js';
import { HISTORY, REPAIRED, type RepairedTable, type StaleScope } from './catalogue.js';
import type { PresentSchema } from './schema.js';

export type { StaleScope } from './catalogue.js';

/** A set of rows in one table, as constant SQL over the table's own columns. */
export interface RowSet {
  table: string;
  where: string;
}

export interface RepairTarget extends RowSet {
  action: 'delete' | 'reset';
  /** For reset: the present columns set back to their defaults, as column -> SQL literal. */
  defaults: Record<string, string>;
}

/** For a reset: the columns of `spec` the table has, each with the value a repair gives it. */
export function presentDefaults(spec: RepairedTable, columns: ReadonlyMap<string, string>): Record<string, string> {
  return spec.repair.action === 'reset' ? Object.fromEntries(Object.entries(spec.repair.defaults).filter(([c]) => columns.has(c))) : {};
}

/**
 * Per table, SQL over its own columns naming the only rows a repair may touch (the rows written late, see
 * late.ts); tables not in the map are not touched.
 */
export type RowsOnly = ReadonlyMap<string, string>;

/**
 * The rows a repair of `scope` touches, in the order it touches them, for the tables that exist; of `only`
 * the rows it names, when given.
 */
export function repairTargets(scope: StaleScope, present: PresentSchema, only?: RowsOnly): RepairTarget[] {
  return REPAIRED.flatMap((spec) => {
    const columns = present.get(spec.table);
    const stranded = columns && spec.strands[scope]((c) => columns.has(c));
    if (!columns || !stranded || (only && !only.has(spec.table))) return [];
    const where = only ? `(${stranded}) AND (${only.get(spec.table)})` : stranded;
    return [{ table: spec.table, where, action: spec.repair.action, defaults: presentDefaults(spec, columns) }];
  });
}

/** Rows of past payments that carry Stripe ids, per table present: reported, never changed. */
export function historySets(present: PresentSchema): RowSet[] {
  return HISTORY.flatMap(({ table, ids, only }) => {
    const columns = present.get(table);
    const set = Object.keys(ids)
      .filter((c) => columns?.has(c))
      .map((c) => `${ident(c)} IS NOT NULL`);
    if (!columns || set.length === 0) return [];
    // Compared as text: a column of another type (an enum, json) must not make the count fail.
    const filter = only && columns.has(only.column) ? ` AND ${ident(only.column)}::text = '${only.equals}'` : '';
    return [{ table, where: `(${set.join(' OR ')})${filter}` }];
  });
}

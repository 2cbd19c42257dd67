import type { Client } from '../db/connect.js';
import { obstaclesOf, readRelations, type Relation } from '../db/relations.js';
import { ConfigurationError } from '../errors.js';
import { HIEVENTS_SCHEMA, KNOWN_TABLES, REPAIRED, SHAPES } from './catalogue.js';

/** table -> column -> type (format_type without modifiers), for the known tables that exist. */
export type PresentSchema = ReadonlyMap<string, ReadonlyMap<string, string>>;

export interface SchemaFacts {
  relations: Relation[];
}

/** Reads the known tables. Inside a transaction that pins search_path (withTransaction). */
export async function readSchemaFacts(client: Client): Promise<SchemaFacts> {
  return { relations: await readRelations(client, HIEVENTS_SCHEMA, KNOWN_TABLES) };
}

export interface SchemaCheck {
  /** What the gate may query: a table without a required column is left out, and so is an odd optional column. */
  usable: PresentSchema;
  /** Per table, the columns archived as exact text besides to_jsonb (json, jsonb, domains...). */
  exactText: ReadonlyMap<string, readonly string[]>;
  /** Known tables whose columns differ from every Hi.Events release: their ids cannot all be counted. */
  unknown: string[];
  /** Per repaired table, why a repair may not write to it; it matters only where a repair has rows to touch. */
  obstacles: ReadonlyMap<string, string[]>;
  /** Per repaired table, why a restore may not write to it (an insert reaches no foreign key pointing here). */
  restoreObstacles: ReadonlyMap<string, string[]>;
}

/**
 * Compares the known tables with the catalogue. A role that may not read a known table is a configuration
 * error (78) naming the grant: counting around it would take a populated install for an empty one.
 */
export function checkSchema({ relations }: SchemaFacts): SchemaCheck {
  const unreadable = relations.filter((r) => !r.readable).map((r) => `${HIEVENTS_SCHEMA}.${r.table}`);
  if (unreadable.length > 0) {
    const role = relations[0].role;
    throw new ConfigurationError(
      `the database role ${role} may not read ${unreadable.join(', ')}, where Hi.Events keeps Stripe ids: ` +
        `GRANT SELECT ON ${unreadable.join(', ')} TO ${role} (a repair also needs UPDATE and DELETE, a restore INSERT)`,
    );
  }
  const usable = new Map<string, Map<string, string>>();
  const unknown: string[] = [];
  const obstacles = new Map<string, string[]>();
  const restoreObstacles = new Map<string, string[]>();
  for (const r of relations) usable.set(r.table, new Map(r.columns.map((c, i) => [c, r.types[i]])));
  for (const spec of REPAIRED) {
    const relation = relations.find((r) => r.table === spec.table);
    const actual = usable.get(spec.table);
    if (!relation || !actual) continue;
    // A delete reaches every foreign key pointing here; a reset, those on the columns it resets.
    // An insert (restore) reaches none; an update, those on the columns it sets.
    const resets = spec.repair.action === 'reset' ? Object.keys(spec.repair.defaults) : null;
    const onResetColumns = (columns: string[]) => resets !== null && columns.some((c) => resets.includes(c));
    obstacles.set(spec.table, obstaclesOf(relation, { byId: true, references: (columns) => !resets || onResetColumns(columns) }));
    restoreObstacles.set(spec.table, obstaclesOf(relation, { byId: true, references: onResetColumns }));
    for (const [column, { types, since }] of Object.entries(spec.columns)) {
      const type = actual.get(column);
      if (type === undefined && since) continue;
      if (type !== undefined && types.includes(type)) continue;
      unknown.push(type === undefined ? `${spec.table}.${column} is missing` : `${spec.table}.${column} is ${type}, expected ${types.join(' or ')}`);
      if (since) actual.delete(column);
      else usable.delete(spec.table);
    }
  }
  const exactText = new Map(relations.map((r) => [r.table, r.exactText]));
  return { usable, exactText, unknown, obstacles, restoreObstacles };
}

/** The Hi.Events schema shape the columns show (informational), or null before the backend migrated. */
export function detectShape(present: PresentSchema): { shape: string; releases: string } | null {
  const found = SHAPES.find(({ mark: [table, column] }) => present.has(table) && (!column || present.get(table)!.has(column)));
  return found ? { shape: found.shape, releases: found.releases } : null;
}

import type { Client } from '../db/connect.js';

/** Hi.Events keeps its tables in public (config/database.php: search_path 'public'). */
export const HIEVENTS_SCHEMA = 'public';

/** Tables whose Stripe ids go stale on a switch: the only tables the gate ever changes. */
export const REPAIRABLE_TABLES = ['stripe_customers', 'account_stripe_platforms', 'organizer_stripe_platforms', 'accounts'];
/** Tables of past payments: counted, never changed. */
export const HISTORY_TABLES = ['stripe_payments', 'stripe_payouts', 'order_refunds', 'order_payment_platform_fees'];

/** table -> column -> information_schema data_type, for the known tables that exist. */
export type PresentSchema = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** Tables whose rows a repair deletes: nothing may reference them, or the delete would cascade unarchived. */
const DELETED_FROM = ['stripe_customers', 'account_stripe_platforms', 'organizer_stripe_platforms'];

export interface SchemaFacts {
  present: PresentSchema;
  /** Foreign keys pointing at a table the repair deletes from: `referencing -> referenced`. */
  references: { referencing: string; referenced: string }[];
  /** Triggers of a table the repair changes: they would act on the repair and on a restore. */
  triggers: { table: string; trigger: string }[];
}

const ID = ['bigint', 'integer'];
const TEXT = ['character varying', 'text'];
/** Columns the gate relies on; a present table whose column is missing or of another type is unexpected. */
const EXPECTED: Record<string, Record<string, { types: string[]; required: boolean }>> = {
  stripe_customers: {
    id: { types: ID, required: true },
    stripe_customer_id: { types: TEXT, required: true },
    stripe_account_id: { types: TEXT, required: false },
  },
  account_stripe_platforms: {
    id: { types: ID, required: true },
    stripe_account_id: { types: TEXT, required: true },
  },
  organizer_stripe_platforms: {
    id: { types: ID, required: true },
    stripe_account_id: { types: TEXT, required: true },
  },
  accounts: {
    id: { types: ID, required: true },
    stripe_account_id: { types: TEXT, required: true },
    stripe_connect_account_type: { types: TEXT, required: false },
    stripe_connect_setup_complete: { types: ['boolean'], required: false },
  },
};

export async function readSchemaFacts(client: Client): Promise<SchemaFacts> {
  const { rows } = await client.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = ANY($2) ORDER BY table_name, ordinal_position`,
    [HIEVENTS_SCHEMA, [...REPAIRABLE_TABLES, ...HISTORY_TABLES]],
  );
  const present = new Map<string, Map<string, string>>();
  for (const row of rows) {
    if (!present.has(row.table_name)) present.set(row.table_name, new Map());
    present.get(row.table_name)!.set(row.column_name, row.data_type);
  }
  const references = await client.query<{ referencing: string; referenced: string }>(
    `SELECT src.relname AS referencing, dst.relname AS referenced
       FROM pg_constraint c
       JOIN pg_class src ON src.oid = c.conrelid
       JOIN pg_class dst ON dst.oid = c.confrelid
       JOIN pg_namespace n ON n.oid = dst.relnamespace
      WHERE c.contype = 'f' AND n.nspname = $1 AND dst.relname = ANY($2)
      ORDER BY 1, 2`,
    [HIEVENTS_SCHEMA, DELETED_FROM],
  );
  const triggers = await client.query<{ table: string; trigger: string }>(
    `SELECT c.relname AS table, t.tgname AS trigger FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT t.tgisinternal AND n.nspname = $1 AND c.relname = ANY($2) ORDER BY 1, 2`,
    [HIEVENTS_SCHEMA, REPAIRABLE_TABLES],
  );
  return { present, references: references.rows, triggers: triggers.rows };
}

/**
 * Compares the known tables with every Hi.Events generation the gate knows. `unexpected` says what differs,
 * in words (any of it forbids a repair); `usable` keeps only what the gate may query: a table without its
 * required columns is left out, and so is an optional column of another type.
 */
export function checkShapes({ present, references, triggers }: SchemaFacts): { usable: PresentSchema; unexpected: string[] } {
  const unexpected: string[] = [];
  const usable = new Map(present);
  for (const { referencing, referenced } of references) {
    unexpected.push(`${referencing} references ${referenced}: deleting its rows would reach ${referencing}`);
  }
  for (const { table, trigger } of triggers) {
    unexpected.push(`${table} has the trigger ${trigger}, which would act on a repair`);
  }
  for (const [table, columns] of Object.entries(EXPECTED)) {
    const actual = present.get(table);
    if (!actual) continue;
    const kept = new Map(actual);
    for (const [column, { types, required }] of Object.entries(columns)) {
      const type = actual.get(column);
      if (type === undefined && !required) continue;
      if (type !== undefined && types.includes(type)) continue;
      unexpected.push(type === undefined ? `${table}.${column} is missing` : `${table}.${column} is ${type}, expected ${types.join(' or ')}`);
      if (required) usable.delete(table);
      else kept.delete(column);
    }
    if (usable.has(table)) usable.set(table, kept);
  }
  return { usable, unexpected };
}

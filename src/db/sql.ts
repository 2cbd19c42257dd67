/** Quotes an SQL identifier ("a""b"): every table, column and schema name goes through here. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A string literal ('it''s'), for names that must stand in SQL as text (a jsonb key, a regclass). Right only
 * where standard_conforming_strings is on: the gate's transactions pin it (withTransaction).
 */
export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** schema.table, both quoted. */
export function qualified(schema: string, table: string): string {
  return `${ident(schema)}.${ident(table)}`;
}

/** Quotes an SQL identifier ("a""b"): every table, column and schema name goes through here. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** schema.table, both quoted. */
export function qualified(schema: string, table: string): string {
  return `${ident(schema)}.${ident(table)}`;
}

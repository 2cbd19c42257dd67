import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { Generation } from '../fixtures/hievents/index.js';
import { templateName, withDatabase } from './global-setup.js';
import { closedWithTest } from './teardown.js';

export interface TestDatabase {
  name: string;
  url: string;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]>;
  /** md5 of every row of every table in public, per table: proves what a run did not change. */
  checksums(): Promise<Record<string, string>>;
  /** md5 of one table's rows without the given columns. */
  checksumWithout(table: string, columns: string[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * A database of its own for one test: a copy of a Hi.Events generation (seeded with test-mode ids), or
 * 'empty' (the backend has not migrated yet). Dropped when the test that made it finishes, or by close().
 */
export async function freshDatabase(generation: Generation | 'empty'): Promise<TestDatabase> {
  const adminUrl = inject('databaseUrl');
  const name = `smg_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const template = generation === 'empty' ? '' : ` TEMPLATE ${templateName(generation)}`;
  await admin.query(`CREATE DATABASE ${name}${template}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const query = async <R extends pg.QueryResultRow>(sql: string, values?: unknown[]) => (await client.query<R>(sql, values)).rows;
  return {
    name,
    url,
    query,
    async checksums() {
      const tables = await query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
      const sums: Record<string, string> = {};
      for (const { table_name } of tables) {
        const [row] = await query<{ sum: string | null }>(`SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS sum FROM public."${table_name}" t`);
        sums[table_name] = row.sum ?? 'empty';
      }
      return sums;
    },
    async checksumWithout(table, columns) {
      const [row] = await query<{ sum: string | null }>(
        `SELECT md5(string_agg((to_jsonb(t) - $1::text[])::text, E'\\n' ORDER BY (to_jsonb(t) - $1::text[])::text)) AS sum FROM public."${table}" t`,
        [columns],
      );
      return row.sum ?? 'empty';
    },
    close: closedWithTest(async () => {
      await client.end();
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }),
  };
}

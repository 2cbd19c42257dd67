import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { generations, fixturePath, type Generation } from '../fixtures/hievents/index.js';
import { readFileSync } from 'node:fs';
import { startPostgres, type TestServer } from '../../scripts/lib/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    databasePassword: string;
    postgresVersion: string;
  }
}

/** One template database per Hi.Events generation; each test copies the one it needs. */
export function templateName(generation: Generation): string {
  return `smg_template_${generation.toLowerCase()}`;
}

async function createTemplates(adminUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const generation of generations) {
      const name = templateName(generation);
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
      const db = new pg.Client({ connectionString: withDatabase(adminUrl, name) });
      await db.connect();
      try {
        await db.query(readFileSync(fixturePath(generation), 'utf8'));
      } finally {
        await db.end();
      }
    }
  } finally {
    await admin.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

let server: TestServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  // Unit and release tests need no database: a run of them alone starts none.
  if (project.vitest.projects.every((p) => p.name === 'unit' || p.name === 'release')) return;
  let url = process.env.TEST_DATABASE_URL;
  let password = url ? decodeURIComponent(new URL(url).password) : '';
  if (!url) {
    server = await startPostgres();
    url = server.url;
    password = server.password;
  }
  await createTemplates(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  project.provide('databaseUrl', url);
  project.provide('databasePassword', password);
  project.provide('postgresVersion', rows[0].server_version);
  process.stderr.write(`tests use PostgreSQL ${rows[0].server_version}\n`);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

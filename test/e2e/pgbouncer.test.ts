// Gates behind PgBouncer in transaction pooling mode: a session-level lock would be taken on one server
// connection and the repair run on another, so exclusion must hold per transaction.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seeded } from '../fixtures/hievents/index.js';
import { json, runCli } from '../support/cli.js';
import type { TestDatabase } from '../support/db.js';
import { LIVE_KEYS } from '../support/gate.js';
import { largeDatabase } from '../support/large.js';
import { PGBOUNCER, startPgBouncer } from '../support/pgbouncer.js';

let db: TestDatabase | undefined;

const count = async (sql: string) => Number((await db!.query<{ n: string }>(sql))[0].n);

// CI installs Debian's pgbouncer (.ci/run); a machine without it says so here rather than pass quietly.
describe.skipIf(!existsSync(PGBOUNCER))('N gates through PgBouncer in transaction mode, like N replicas behind a pooler', () => {
  it('all exit 0, exactly one repairs, the others match, and the archive holds each row once', async () => {
    db = await largeDatabase(20_000);
    const bouncer = await startPgBouncer(db.url);
    const env = { ...LIVE_KEYS, DATABASE_URL: bouncer.url, STRIPE_GATE_ON_MISMATCH: 'clean', STRIPE_GATE_LOCK_WAIT_SECONDS: '60' };
    const runs = await Promise.all(Array.from({ length: 6 }, () => runCli(['check', '--json'], env)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(runs.map((r) => json(r).decision).sort()).toEqual(['cleaned', 'match', 'match', 'match', 'match', 'match']);
    const { tables, accountsWithAnyConnectColumn } = seeded.E;
    expect(await count('SELECT count(*) AS n FROM stripe_mode_gate.archive')).toBe(
      20_000 + tables.stripe_customers + tables.account_stripe_platforms + accountsWithAnyConnectColumn,
    );
    expect(await count('SELECT count(DISTINCT (table_name, row_id)) AS n FROM stripe_mode_gate.archive')).toBe(
      await count('SELECT count(*) AS n FROM stripe_mode_gate.archive'),
    );
    // Nothing the gate set is left on the pooled server connections: another client sees the defaults.
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: bouncer.url });
    await client.connect();
    const settings = await client.query("SELECT current_setting('search_path') AS search_path, current_setting('lock_timeout') AS lock_timeout");
    await client.end();
    expect(settings.rows).toEqual([{ search_path: '"$user", public', lock_timeout: '0' }]);
  }, 120_000);
});

// A real PgBouncer (Debian's package) in transaction pooling mode in front of the test PostgreSQL, as
// self-hosters put one before a busy Hi.Events: each transaction may run on another server connection, and a
// server connection serves many clients in turn. It refuses to run as root, so it runs as `postgres`.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/postgres.js';
import { closedWithTest } from './teardown.js';
import { until } from './wait.js';

export const PGBOUNCER = '/usr/sbin/pgbouncer';

export interface Bouncer {
  /** The same database and credentials as `url`, through PgBouncer. */
  url: string;
  stop(): Promise<void>;
}

/** A PgBouncer in front of `url`; stopped when the test that started it finishes, or by stop(). */
export async function startPgBouncer(url: string, poolSize = 2): Promise<Bouncer> {
  const target = new URL(url);
  const dir = mkdtempSync(join(tmpdir(), 'smg-pgbouncer-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const user = decodeURIComponent(target.username);
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" "${decodeURIComponent(target.password)}"\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${target.hostname} port=${target.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      'max_client_conn = 200',
      // node-postgres sends it at connect, and PgBouncer refuses startup parameters it does not know.
      'ignore_startup_parameters = extra_float_digits',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
    ].join('\n'),
  );
  const asRoot = userInfo().uid === 0;
  if (asRoot) execFileSync('chown', ['-R', 'postgres', dir]);
  const [file, ...args] = [...(asRoot ? ['runuser', '-u', 'postgres', '--'] : []), PGBOUNCER, join(dir, 'pgbouncer.ini')];
  const child = spawn(file, args, { stdio: 'ignore' });
  const through = new URL(url);
  through.port = String(port);
  await until(() => existsSync(join(dir, 'pgbouncer.pid')), 'PgBouncer to start');
  return {
    url: through.toString(),
    stop: closedWithTest(async () => {
      const exited = child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : null;
      // The pid of PgBouncer itself: runuser, when used, waits for it.
      process.kill(Number(readFileSync(join(dir, 'pgbouncer.pid'), 'utf8')), 'SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }),
  };
}

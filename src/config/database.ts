import { accessSync, constants, statSync } from 'node:fs';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface DatabaseSettings {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  sslmode: SslMode;
  /** CA certificate file for verify-ca / verify-full (DATABASE_URL's sslrootcert, as libpq names it). */
  sslrootcert?: string;
  /**
   * How long the gate waits for the answer to one statement before it takes the database for gone: longer
   * than any statement may run (the lock wait plus STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS), so that only a
   * network that stopped delivering reaches it.
   */
  answerTimeoutMs?: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const URL_SCHEMES = ['postgres:', 'postgresql:', 'pgsql:'];

/**
 * The backend's database settings with Laravel's defaults and precedence (config/database.php and
 * ConfigurationUrlParser): DB_* values, then every part present in DATABASE_URL overrides its DB_* twin.
 * Problems are pushed to `problems`; values are never echoed (the URL carries the password).
 */
export function readDatabaseSettings(env: Env, problems: string[]): DatabaseSettings {
  const settings: DatabaseSettings = {
    host: env.DB_HOST || '127.0.0.1',
    port: 5432,
    database: env.DB_DATABASE || 'forge',
    user: env.DB_USERNAME || 'forge',
    password: env.DB_PASSWORD ?? '',
    sslmode: 'prefer',
  };
  if (env.DB_CONNECTION && env.DB_CONNECTION !== 'pgsql') {
    problems.push(`DB_CONNECTION: only pgsql is supported (Hi.Events runs on PostgreSQL)`);
  }
  if (env.DB_PORT) {
    const port = parsePort(env.DB_PORT);
    if (port === undefined) problems.push('DB_PORT: expected a port number from 1 to 65535');
    else settings.port = port;
  }
  if (env.DATABASE_URL) applyUrl(env.DATABASE_URL, settings, problems);
  return settings;
}

function applyUrl(raw: string, settings: DatabaseSettings, problems: string[]): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push('DATABASE_URL: not a valid URL; expected postgresql://user:password@host:port/database');
    return;
  }
  if (!URL_SCHEMES.includes(url.protocol)) {
    problems.push('DATABASE_URL: expected a postgresql:// (or postgres://, pgsql://) URL');
    return;
  }
  // A password with / ? or # that is not URL-encoded ends the host part early: the rest of it would be read
  // as the port, the database name or a fragment, and shown wherever those are. An '@' after the host is
  // that, or one in the database name or a parameter, which no URL parser can tell apart (u:@x/y@host/db):
  // refused either way, since the first may show a password; %40 there works for the backend too.
  if (url.hash || url.pathname.includes('@') || url.search.includes('@')) {
    problems.push(
      "DATABASE_URL: holds '@' or '#' after the host, so a password with / ? # or @ is probably not URL-encoded " +
        '(write %2F for /, %3F for ?, %23 for #, %40 for @; an @ in the database name or a parameter must be %40 too); a fragment means nothing to PostgreSQL',
    );
    return;
  }
  if (url.hostname) settings.host = rawUrlDecode(url.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (url.port) settings.port = Number(url.port);
  if (url.username) settings.user = rawUrlDecode(url.username);
  if (url.password) settings.password = rawUrlDecode(url.password);
  const database = rawUrlDecode(url.pathname.replace(/^\//, ''));
  if (database) settings.database = database;
  const sslrootcert = url.searchParams.get('sslrootcert');
  if (sslrootcert) {
    const problem = unreadableFile(sslrootcert);
    if (problem) problems.push(`DATABASE_URL: the sslrootcert file ${problem}`);
    else settings.sslrootcert = sslrootcert;
  }
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode !== null) {
    if ((SSL_MODES as readonly string[]).includes(sslmode)) settings.sslmode = sslmode as SslMode;
    else problems.push(`DATABASE_URL: sslmode must be one of ${SSL_MODES.join(', ')}`);
  }
}

/** Why `path` is not a regular file this process may read, or null. */
function unreadableFile(path: string): string | null {
  try {
    const kind = statSync(path, { throwIfNoEntry: false });
    if (!kind) return 'does not exist';
    if (!kind.isFile()) return 'is a directory or device, not a certificate file';
    accessSync(path, constants.R_OK);
    return null;
  } catch (error) {
    return `cannot be read by this process (${(error as NodeJS.ErrnoException).code ?? 'error'}; the gate runs as uid ${process.getuid?.() ?? '?'})`;
  }
}

/** PHP's rawurldecode: %XX sequences decoded, anything else (a stray %) left as it is. */
function rawUrlDecode(text: string): string {
  const bytes = Buffer.from(
    text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  );
  return bytes.toString('utf8');
}

function parsePort(value: string): number | undefined {
  if (!/^\d{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** The connection as a URL safe to log: the password masked. */
export function describeDatabase(db: DatabaseSettings): string {
  const user = encodeURIComponent(db.user);
  const auth = db.password ? `${user}:***` : user;
  const host = db.host.includes(':') ? `[${db.host}]` : db.host;
  return `postgresql://${auth}@${host}:${db.port}/${encodeURIComponent(db.database)}`;
}

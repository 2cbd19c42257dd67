import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { ConnectionOptions } from 'node:tls';
import { describeDatabase, type DatabaseSettings } from '../config/database.js';
import { ConfigurationError, GateError, pause, UnavailableError } from '../errors.js';
import { errorCode, fromDatabase, SqlState } from './errors.js';
import type { Logger } from '../logging.js';

export type Client = pg.Client;

/** Login refused: waiting will not help, the settings are wrong. */
const AUTH_FAILURES = new Set<string>([SqlState.invalidPassword, SqlState.invalidAuthorization]);
const NO_SSL = 'The server does not support SSL connections';
/** Node's codes for a server certificate that the TLS settings reject: waiting will not change it either. */
const CERTIFICATE_REJECTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  // Not CERT_HAS_EXPIRED or CERT_NOT_YET_VALID: a certificate being rotated, or a clock a little off, passes
  // within the wait.
]);

/** Why TLS settings can never connect to this server, or null. */
function impossibleTls(db: DatabaseSettings, code: string | undefined, message: string): string | null {
  if (message.includes(NO_SSL))
    return `the server does not offer TLS, but DATABASE_URL asks for it (sslmode=${db.sslmode}); use sslmode=prefer or disable, or enable TLS on the server`;
  if (code && CERTIFICATE_REJECTED.has(code)) {
    return `the server's TLS certificate is rejected under sslmode=${db.sslmode} (${code}); set sslrootcert in DATABASE_URL to the CA that signed it, or use sslmode=require to encrypt without verifying`;
  }
  return null;
}

function tlsFor({ sslmode, sslrootcert }: DatabaseSettings): false | ConnectionOptions {
  const ca = sslrootcert ? { ca: readCa(sslrootcert) } : {};
  switch (sslmode) {
    case 'disable':
    case 'allow':
      return false;
    case 'prefer':
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { ...ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...ca, rejectUnauthorized: true };
  }
}

/** The CA file; one that cannot be read is a setting to fix, not an outage to wait out. */
function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigurationError(`DATABASE_URL's sslrootcert ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
      cause: error,
    });
  }
}

async function connectOnce(db: DatabaseSettings, timeoutMs: number): Promise<Client> {
  const base = {
    host: db.host,
    port: db.port,
    database: db.database,
    user: db.user,
    password: db.password,
    application_name: 'stripe-mode-gate',
    connectionTimeoutMillis: Math.max(timeoutMs, 1000),
    // A peer that vanished (host down, cable cut) is noticed by the kernel's keepalive probes; a network that
    // still acknowledges but delivers nothing, by the answer timeout (fromDatabase: exit 69).
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(db.answerTimeoutMs ? { query_timeout: db.answerTimeoutMs } : {}),
  };
  let ssl = tlsFor(db);
  for (;;) {
    const client = new pg.Client({ ...base, ssl });
    // A connection lost (a server restart, a terminated session), during the handshake or later, must fail the
    // pending or next query, not crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      // libpq's sslmode=prefer: try TLS first, fall back to a plain connection when the server has none.
      if (db.sslmode === 'prefer' && ssl && error instanceof Error && error.message.includes(NO_SSL)) {
        ssl = false;
        continue;
      }
      throw error;
    }
  }
}

/**
 * Connects, retrying with backoff for up to `waitSeconds` (the database container is often still starting
 * when the gate runs). Fails with exit 69 naming the server, never the password; stops waiting (StoppedError)
 * as soon as `signal` aborts.
 */
export async function connect(db: DatabaseSettings, waitSeconds: number, log: Logger, signal?: AbortSignal): Promise<Client> {
  const deadline = Date.now() + waitSeconds * 1000;
  const target = describeDatabase(db);
  for (let attempt = 1, delay = 200; ; attempt++, delay = Math.min(delay * 2, 3000)) {
    try {
      const client = await connectOnce(db, Math.min(5000, deadline - Date.now()));
      log.debug({ database: target, attempt }, 'connected to the database');
      return client;
    } catch (error) {
      if (error instanceof GateError) throw error;
      const code = errorCode(error) || (error as NodeJS.ErrnoException).code;
      const message = error instanceof Error ? error.message : String(error);
      const tls = impossibleTls(db, code, message);
      if (tls) throw new ConfigurationError(`the database at ${target} cannot be reached with these TLS settings: ${tls}`, { cause: error });
      if (code && AUTH_FAILURES.has(code)) {
        throw new ConfigurationError(`the database at ${target} refused the login (${message}); check DB_USERNAME/DB_PASSWORD or DATABASE_URL`, {
          cause: error,
        });
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new UnavailableError(`database ${target} not reachable within STRIPE_GATE_DB_WAIT_SECONDS=${waitSeconds}s (${code ?? message})`, {
          cause: error,
        });
      }
      log.info({ database: target, attempt, reason: code ?? message }, 'database not reachable yet; retrying');
      await pause(Math.min(delay, left), signal);
    }
  }
}

/**
 * Ends the session, or, when the server does not answer (a dead network), drops the socket: the server rolls
 * back whatever was not committed either way.
 */
async function disconnect(client: Client): Promise<void> {
  const ended = client.end().catch(() => undefined);
  const gaveUp = new Promise((resolve) => setTimeout(resolve, 1000).unref());
  if ((await Promise.race([ended.then(() => 'ended'), gaveUp])) !== 'ended') {
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  }
}

/**
 * Connects (with the wait), runs `fn`, and always disconnects. What the server says on the way is put in the
 * gate's terms (fromDatabase): a connection lost is exit 69, whatever ran in a transaction was rolled back.
 */
export async function withClient<T>(
  db: DatabaseSettings,
  waitSeconds: number,
  log: Logger,
  fn: (client: Client) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const client = await connect(db, waitSeconds, log, signal);
  try {
    return await fn(client);
  } catch (error) {
    throw fromDatabase(error, describeDatabase(db), db.user);
  } finally {
    await disconnect(client);
  }
}

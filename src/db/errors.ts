import { ConfigurationError, GateError, LockTimeoutError, UnavailableError } from '../errors.js';

/** The SQLSTATE codes the gate tells apart (PostgreSQL, Appendix A). */
export const SqlState = {
  undefinedTable: '42P01',
  undefinedSchema: '3F000',
  insufficientPrivilege: '42501',
  readOnlyTransaction: '25006',
  lockNotAvailable: '55P03',
  queryCanceled: '57014',
  invalidPassword: '28P01',
  invalidAuthorization: '28000',
} as const;

/** The SQLSTATE of a database error, or '' for anything else. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : '';
}

/** The two-character class of the SQLSTATE ('23': integrity constraint violation), or ''. */
export function errorClass(error: unknown): string {
  return errorCode(error).slice(0, 2);
}

/** The server gave no answer within the client's answer timeout: the connection is of no further use. */
export function answerTimedOut(error: unknown): boolean {
  return error instanceof Error && /Query read timeout/.test(error.message);
}

/** The connection broke during the run (server restart, network): retrying later helps. */
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03', '57P05', '25P03']);
/** Classes of states that pass: connection exceptions, insufficient resources, and a rollback the server chose. */
const TRANSIENT_CLASSES = ['08', '53', '40'];

function connectionLost(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    (e.code !== undefined && CONNECTION_LOST.has(e.code)) || /Connection terminated|connection is closed|Client was closed|not queryable/i.test(e.message ?? '')
  );
}

/** The grant that would have let the statement run, from PostgreSQL's "permission denied for <kind> <name>". */
function grantFor(message: string, user: string): string {
  const [, kind, name] = /permission denied for (table|relation|schema|database|sequence|function) "?([^"\s]+)"?/.exec(message) ?? [];
  switch (kind) {
    case 'schema':
      return `GRANT USAGE ON SCHEMA ${name} TO ${user} (and CREATE ON SCHEMA ${name} when the gate's tables are still missing)`;
    case 'database':
      return `GRANT CREATE ON DATABASE ${name} TO ${user}, so that the gate can create its schema on the first write (or create that schema for ${user} beforehand)`;
    case 'table':
    case 'relation':
      return `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ${name} TO ${user} (the gate reads the Stripe tables, repairs with UPDATE and DELETE, restores with INSERT, and writes its own tables)`;
    default:
      return `grant ${user} what the message names`;
  }
}

/**
 * Turns what the database said into the gate's terms: a state the operator can change (a missing grant, a
 * read-only server) is named with its fix, a passing one is exit 69; anything else is left as it is (a bug).
 */
export function fromDatabase(error: unknown, target: string, user: string): unknown {
  if (error instanceof GateError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (answerTimedOut(error)) {
    return new UnavailableError(
      `${target} stopped answering (no reply within the lock wait and STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS): the network, or the server; nothing the run had not committed is kept, retrying helps`,
      { cause: error },
    );
  }
  if (connectionLost(error) || TRANSIENT_CLASSES.includes(errorClass(error))) {
    return new UnavailableError(
      `lost the connection to ${target} during the run, or the server could not go on (${message}); nothing was committed, retrying helps`,
      { cause: error },
    );
  }
  switch (errorCode(error)) {
    case SqlState.insufficientPrivilege:
      if (/row-level security/.test(message)) {
        return new ConfigurationError(
          `row-level security hides rows of a table from the database role ${user} (${message}); the gate must see every row: ` +
            'run it as the table owner, or as a role with BYPASSRLS',
          { cause: error },
        );
      }
      return new ConfigurationError(`the database role ${user} lacks a privilege the gate needs (${message}): ${grantFor(message, user)}`, {
        cause: error,
      });
    case SqlState.lockNotAvailable:
      return new LockTimeoutError(
        `a table the gate needs stayed locked by another session past the lock wait (STRIPE_GATE_LOCK_WAIT_SECONDS, lock_timeout) (${message}); nothing was changed, retrying helps`,
      );
    case SqlState.queryCanceled:
      return new UnavailableError(
        `the server cancelled a statement of the gate (${message}): it ran past the lock wait and STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS, or a cancel request came; nothing was changed, retrying helps`,
        { cause: error },
      );
    case SqlState.readOnlyTransaction:
      return new ConfigurationError(
        `the database at ${target} is read-only (${message}): a standby, or default_transaction_read_only is on, and this run must write. ` +
          'Point DATABASE_URL (or DB_HOST) at the primary',
        { cause: error },
      );
    default:
      return error;
  }
}

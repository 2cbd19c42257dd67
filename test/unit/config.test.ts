import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env.js';
import { ConfigError } from '../../src/errors.js';

const SECRET = 'sk_test_51UnitSecretValue';
const PUBLIC = 'pk_test_51UnitPublicValue';
const load = (env: Record<string, string | undefined>) => loadConfig(env, { terminationLog: null });

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('database settings follow Laravel', () => {
  it('uses Laravel defaults when nothing is set', () => {
    expect(load({}).database).toEqual({
      host: '127.0.0.1',
      port: 5432,
      database: 'forge',
      user: 'forge',
      password: '',
      sslmode: 'prefer',
      // Lock wait 120 s + statement 600 s + 5 s.
      answerTimeoutMs: 725_000,
    });
  });

  it('reads DB_* variables', () => {
    const db = load({ DB_HOST: 'db', DB_PORT: '6543', DB_DATABASE: 'backend', DB_USERNAME: 'username', DB_PASSWORD: 'pw' }).database;
    expect(db).toMatchObject({ host: 'db', port: 6543, database: 'backend', user: 'username', password: 'pw' });
  });

  it('lets every part present in DATABASE_URL override its DB_* twin, and keeps the others', () => {
    const db = load({
      DB_HOST: 'db',
      DB_PORT: '6543',
      DB_DATABASE: 'backend',
      DB_USERNAME: 'username',
      DB_PASSWORD: 'pw',
      DATABASE_URL: 'postgresql://postgres:s%40cret@postgres/hi-events?sslmode=disable',
    }).database;
    expect(db).toEqual({
      host: 'postgres',
      port: 6543,
      database: 'hi-events',
      user: 'postgres',
      password: 's@cret',
      sslmode: 'disable',
      answerTimeoutMs: 725_000,
    });
  });

  it('accepts postgres:// and pgsql:// and an IPv6 host', () => {
    expect(load({ DATABASE_URL: 'postgres://u@[::1]:5433/d' }).database).toMatchObject({ host: '::1', port: 5433, user: 'u' });
    expect(load({ DATABASE_URL: 'pgsql://u@h/d' }).database).toMatchObject({ host: 'h', database: 'd' });
  });
});

describe('Stripe keys', () => {
  it('has no Stripe settings without a secret key (the gate skips)', () => {
    expect(load({ STRIPE_SECRET_KEY: '' }).stripe).toBeNull();
    const config = load({ STRIPE_PUBLIC_KEY: PUBLIC });
    expect(config.stripe).toBeNull();
    expect(config.warnings.join()).toContain('STRIPE_PUBLIC_KEY is set but STRIPE_SECRET_KEY is not');
  });

  it('falls back from the CA/IE pairs to the plain pair, as config/services.php does', () => {
    const stripe = load({ STRIPE_SECRET_KEY: SECRET, STRIPE_PUBLIC_KEY: PUBLIC }).stripe!;
    expect(stripe.mode).toBe('test');
    expect(Object.keys(stripe.platforms)).toEqual(['default', 'ca', 'ie']);
    expect(stripe.platforms.ca).toMatchObject({ variable: 'STRIPE_SECRET_KEY' });
    expect(stripe.platforms.ca!.fingerprint).toBe(stripe.platforms.default!.fingerprint);
  });

  it('uses a platform key of its own when set, and no fall-back when it is set empty', () => {
    const stripe = load({ STRIPE_SECRET_KEY: SECRET, STRIPE_CA_SECRET_KEY: 'sk_test_51OtherCaKey', STRIPE_IE_SECRET_KEY: '' }).stripe!;
    expect(stripe.platforms.ca).toMatchObject({ variable: 'STRIPE_CA_SECRET_KEY' });
    expect(stripe.platforms.ca!.fingerprint).not.toBe(stripe.platforms.default!.fingerprint);
    expect(stripe.platforms.ie).toBeUndefined();
  });

  it("reads each platform's webhook secret as the backend does (falling back to the plain one), keeping only its fingerprint", () => {
    const whsec = 'whsec_GateUnitWebhookSecret000000';
    const stripe = load({
      STRIPE_SECRET_KEY: SECRET,
      STRIPE_WEBHOOK_SECRET: whsec,
      STRIPE_CA_SECRET_KEY: 'sk_test_51OtherCaKey',
      STRIPE_CA_WEBHOOK_SECRET: 'whsec_test_123456789',
    }).stripe!;
    expect(stripe.platforms.default!.webhook).toEqual({
      variable: 'STRIPE_WEBHOOK_SECRET',
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      placeholder: false,
      shaped: true,
    });
    expect(stripe.platforms.ca!.webhook).toMatchObject({ variable: 'STRIPE_CA_WEBHOOK_SECRET', placeholder: true, shaped: false });
    expect(stripe.platforms.ie!.webhook).toMatchObject({ variable: 'STRIPE_WEBHOOK_SECRET' });
    expect(JSON.stringify(stripe)).not.toContain(whsec);
    expect(load({ STRIPE_SECRET_KEY: SECRET }).stripe!.platforms.default!.webhook).toBeNull();
  });

  it('refuses keys of two modes at once', () => {
    const problems = problemsOf({ STRIPE_SECRET_KEY: SECRET, STRIPE_CA_SECRET_KEY: 'sk_live_51LiveCaKey' });
    expect(problems).toEqual(['STRIPE_CA_SECRET_KEY: is a live key but STRIPE_SECRET_KEY is a test key; all Stripe keys must be of one mode']);
  });

  it('refuses a publishable key of the other mode', () => {
    expect(problemsOf({ STRIPE_SECRET_KEY: SECRET, STRIPE_PUBLIC_KEY: 'pk_live_51Other' })).toEqual([
      'STRIPE_PUBLIC_KEY: is a live key but STRIPE_SECRET_KEY is a test key; use one mode',
    ]);
  });
});

describe('invalid settings are reported together, named, never echoed', () => {
  const env = {
    STRIPE_SECRET_KEY: 'pk_live_51SecretSlotHoldsPublic',
    STRIPE_PUBLIC_KEY: 'sk_live_51PublicSlotHoldsSecret',
    STRIPE_IE_SECRET_KEY: 'sk_org_51OrgKeyValue',
    STRIPE_GATE_ON_MISMATCH: 'delete',
    STRIPE_GATE_ON_UNKNOWN: 'guess',
    STRIPE_GATE_DB_WAIT_SECONDS: '-1',
    STRIPE_GATE_LOCK_WAIT_SECONDS: '1.5',
    STRIPE_GATE_STRIPE_API: 'sometimes',
    STRIPE_GATE_STRIPE_API_URL: 'ftp://example',
    STRIPE_GATE_SETTLE_SECONDS: '2147484',
    STRIPE_GATE_SCHEMA: 'gate; DROP TABLE accounts',
    LOG_LEVEL: 'loud',
    LOG_FORMAT: 'xml',
    DB_PORT: 'abc',
    DB_CONNECTION: 'mysql',
    DATABASE_URL: 'mysql://root:topsecretpassword@db/x',
  };
  const problems = problemsOf(env);
  const variables = problems.map((p) => p.split(':')[0]);

  it('names every invalid variable once', () => {
    expect(variables.sort()).toEqual(
      [
        'DATABASE_URL',
        'DB_CONNECTION',
        'DB_PORT',
        'LOG_FORMAT',
        'LOG_LEVEL',
        'STRIPE_GATE_DB_WAIT_SECONDS',
        'STRIPE_GATE_LOCK_WAIT_SECONDS',
        'STRIPE_GATE_ON_MISMATCH',
        'STRIPE_GATE_ON_UNKNOWN',
        'STRIPE_GATE_SCHEMA',
        'STRIPE_GATE_SETTLE_SECONDS',
        'STRIPE_GATE_STRIPE_API',
        'STRIPE_GATE_STRIPE_API_URL',
        'STRIPE_IE_SECRET_KEY',
        'STRIPE_PUBLIC_KEY',
        'STRIPE_SECRET_KEY',
      ].sort(),
    );
  });

  it('says what is accepted', () => {
    expect(problems).toContain('STRIPE_GATE_ON_MISMATCH: expected refuse or clean');
    // Past what a timer or a PostgreSQL timeout holds in milliseconds: refused here, not a crash (70) later.
    expect(problems).toContain('STRIPE_GATE_SETTLE_SECONDS: expected a whole number of seconds from 0 to 1000000');
    expect(problems).toContain('STRIPE_GATE_DB_WAIT_SECONDS: expected a whole number of seconds from 0 to 1000000');
    expect(problems.find((p) => p.startsWith('STRIPE_SECRET_KEY'))).toContain('holds a publishable key');
    expect(problems.find((p) => p.startsWith('STRIPE_PUBLIC_KEY'))).toContain('holds a secret key');
  });

  it('never contains a secret value', () => {
    const text = problems.join('\n');
    for (const secret of ['51SecretSlotHoldsPublic', '51PublicSlotHoldsSecret', '51OrgKeyValue', 'topsecretpassword']) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("the gate's own settings", () => {
  it('has the documented defaults, and treats empty values as unset', () => {
    const { gate, log } = load({ STRIPE_GATE_ON_MISMATCH: '', LOG_LEVEL: '' });
    expect(gate).toEqual({
      onMismatch: 'refuse',
      onUnknown: 'refuse',
      dbWaitSeconds: 60,
      lockWaitSeconds: 120,
      settleSeconds: 300,
      statementTimeoutSeconds: 600,
      recordSwitches: true,
      stripeApi: 'auto',
      preflight: 'warn',
      stripeApiUrl: 'https://api.stripe.com',
      schema: 'stripe_mode_gate',
      archiveDays: null,
      terminationLog: null,
      healthFile: '/tmp/stripe-mode-gate-watch.json',
      watchContainers: [],
      docker: { socketPath: '/var/run/docker.sock' },
    });
    expect(log).toEqual({ level: 'info', format: 'json' });
  });

  it('reads the Docker Engine and the protected names for watch', () => {
    expect(load({ DOCKER_HOST: 'unix:///run/docker.sock', STRIPE_GATE_WATCH_CONTAINERS: ' backend, all-in-one ,' }).gate).toMatchObject({
      docker: { socketPath: '/run/docker.sock' },
      watchContainers: ['backend', 'all-in-one'],
    });
    expect(load({ DOCKER_HOST: 'tcp://docker:2375' }).gate.docker).toEqual({ host: 'docker', port: 2375 });
    expect(problemsOf({ DOCKER_HOST: 'ssh://me@host' })).toEqual(['DOCKER_HOST: expected unix:///path/to/docker.sock or tcp://host:port']);
  });

  it('takes no statement timeout of 0, which would mean no bound at all', () => {
    expect(problemsOf({ STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS: '0' })).toEqual([
      'STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS: expected a whole number of seconds from 1 to 1000000',
    ]);
    expect(load({ STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS: '30' }).gate.statementTimeoutSeconds).toBe(30);
  });

  it('refuses waits past what timers and PostgreSQL timeouts hold (STRIPE_GATE_LOCK_WAIT_SECONDS=2147484 exited 70 once)', () => {
    expect(problemsOf({ STRIPE_GATE_LOCK_WAIT_SECONDS: '2147484' })).toEqual([
      'STRIPE_GATE_LOCK_WAIT_SECONDS: expected a whole number of seconds from 0 to 1000000',
    ]);
    const longest = load({ STRIPE_GATE_LOCK_WAIT_SECONDS: '1000000', STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS: '1000000' });
    expect(longest.database.answerTimeoutMs).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it('takes STRIPE_GATE_ARCHIVE_DAYS from 1 to 36500, unset by default', () => {
    expect(load({ STRIPE_GATE_ARCHIVE_DAYS: '30' }).gate.archiveDays).toBe(30);
    for (const value of ['0', '36501', '1.5', 'month']) {
      expect(problemsOf({ STRIPE_GATE_ARCHIVE_DAYS: value })).toEqual([
        'STRIPE_GATE_ARCHIVE_DAYS: expected a whole number of days from 1 to 36500, or empty to keep archives until pruned',
      ]);
    }
  });

  it('keeps a path in the Stripe API URL (a proxy prefix) and refuses a query, fragment or credentials', () => {
    expect(load({ STRIPE_GATE_STRIPE_API_URL: 'https://proxy.internal/stripe/' }).gate.stripeApiUrl).toBe('https://proxy.internal/stripe');
    for (const url of ['https://proxy.internal/?key=1', 'https://proxy.internal/#x', 'https://user:pw@proxy.internal/']) {
      expect(problemsOf({ STRIPE_GATE_STRIPE_API_URL: url })).toEqual(['STRIPE_GATE_STRIPE_API_URL: expected an http(s) URL, optionally with a path prefix']);
    }
  });

  it('refuses probe without the Stripe API', () => {
    expect(problemsOf({ STRIPE_GATE_ON_UNKNOWN: 'probe', STRIPE_GATE_STRIPE_API: 'off' })).toEqual([
      'STRIPE_GATE_ON_UNKNOWN: probe asks Stripe, but STRIPE_GATE_STRIPE_API=off; set it to auto or required, or choose refuse or adopt',
    ]);
  });

  it("understands Laravel's level names in a shared env file", () => {
    expect(load({ LOG_LEVEL: 'warning' }).log.level).toBe('warn');
    expect(load({ LOG_LEVEL: 'DEBUG' }).log.level).toBe('debug');
  });

  it('accepts zero waits and a quoted-safe schema name', () => {
    const { gate } = load({ STRIPE_GATE_DB_WAIT_SECONDS: '0', STRIPE_GATE_LOCK_WAIT_SECONDS: '0', STRIPE_GATE_SCHEMA: 'Gate_2' });
    expect(gate).toMatchObject({ dbWaitSeconds: 0, lockWaitSeconds: 0, schema: 'Gate_2' });
  });

  it('lists every secret it must keep out of the output', () => {
    const config = load({ STRIPE_SECRET_KEY: SECRET, STRIPE_WEBHOOK_SECRET: 'whsec_51Hook', DB_PASSWORD: 'dbpass123' });
    expect(config.secrets.sort()).toEqual([SECRET, 'dbpass123', 'whsec_51Hook'].sort());
  });
});

describe("the backend's variables are read through Laravel's env()", () => {
  it('strips one pair of quotes, as the backend does', () => {
    const config = load({ STRIPE_SECRET_KEY: `"${SECRET}"`, DB_PASSWORD: "'quoted pw'", DATABASE_URL: '"postgresql://u@db/x"' });
    expect(config.stripe!.mode).toBe('test');
    expect(config.database).toMatchObject({ password: 'quoted pw', host: 'db', database: 'x' });
  });

  it('takes null for unset: the CA key then falls back to the plain one', () => {
    const stripe = load({ STRIPE_SECRET_KEY: SECRET, STRIPE_CA_SECRET_KEY: '(null)', STRIPE_IE_SECRET_KEY: 'empty' }).stripe!;
    expect(stripe.platforms.ca).toMatchObject({ variable: 'STRIPE_SECRET_KEY' });
    expect(stripe.platforms.ie).toBeUndefined();
  });

  it('decodes DATABASE_URL like rawurldecode: a stray % stays as it is', () => {
    expect(load({ DATABASE_URL: 'postgresql://u:p%zz%41@h/db' }).database.password).toBe('p%zzA');
    expect(load({ DATABASE_URL: 'postgresql://u:%C3%A9t%C3%A9@h/db' }).database.password).toBe('été');
  });
});

describe('TLS to the database', () => {
  it('takes sslrootcert from DATABASE_URL, and names a missing file', () => {
    const file = new URL(import.meta.url).pathname;
    expect(load({ DATABASE_URL: `postgresql://u@h/db?sslmode=verify-full&sslrootcert=${file}` }).database).toMatchObject({
      sslmode: 'verify-full',
      sslrootcert: file,
    });
    expect(problemsOf({ DATABASE_URL: 'postgresql://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem' })).toEqual([
      'DATABASE_URL: the sslrootcert file does not exist',
    ]);
    expect(problemsOf({ DATABASE_URL: 'postgresql://u@h/db?sslmode=verify-full&sslrootcert=/tmp' })).toEqual([
      'DATABASE_URL: the sslrootcert file is a directory or device, not a certificate file',
    ]);
    // A path through a file (ENOTDIR): named, not a crash (70).
    expect(problemsOf({ DATABASE_URL: `postgresql://u@h/db?sslmode=verify-full&sslrootcert=${file}/ca.pem` })).toEqual([
      expect.stringMatching(/^DATABASE_URL: the sslrootcert file cannot be read by this process \(ENOTDIR/),
    ]);
  });
});

import { cleanEnv, makeValidator, str, type Spec } from 'envalid';
import { ConfigError } from '../errors.js';
import { readDatabaseSettings, type DatabaseSettings } from './database.js';
import { asLaravelSees } from './laravel.js';
import { readLogSettings, type LogSettings } from './log.js';
import { readSaasMode } from './saas.js';
import { readStripeSettings, stripeSecrets, type StripeSettings } from './stripe.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface GateSettings {
  onMismatch: 'refuse' | 'clean';
  onUnknown: 'refuse' | 'adopt' | 'probe';
  dbWaitSeconds: number;
  lockWaitSeconds: number;
  /** A marker younger than this is not changed to another mode, account or SaaS setting (0: never guarded). */
  settleSeconds: number;
  /** The longest one statement may run besides waiting for locks (the server cancels it: exit 69). */
  statementTimeoutSeconds: number;
  /**
   * Whether a switch that strands nothing yet (another mode, account or SaaS setting, no ids of the old one)
   * is recorded (`updated`). Always so for check; the watcher leaves switches to the init gate.
   */
  recordSwitches: boolean;
  stripeApi: 'auto' | 'required' | 'off';
  /** The webhook checklist on a switch: warn (report), refuse (exit 78 before any change), off. */
  preflight: 'warn' | 'refuse' | 'off';
  stripeApiUrl: string;
  schema: string;
  /** Archives of cleaned runs older than this many days are pruned by check; null: kept until `prune`. */
  archiveDays: number | null;
  /** Where a refusal's reason is written; null: nowhere. */
  terminationLog: string | null;
  /** watch: containers protected by name or compose service, besides the label. */
  watchContainers: string[];
  /** watch: where it writes its health, which `health` (the image's HEALTHCHECK) reads. */
  healthFile: string;
  /** watch: the Docker Engine, as the docker CLI finds it. */
  docker: { socketPath: string } | { host: string; port: number };
}

export interface Config {
  database: DatabaseSettings;
  /** null: no Stripe secret key configured. */
  stripe: StripeSettings | null;
  saasMode: boolean;
  /** Hi.Events' public API base URL (VITE_API_URL_CLIENT), where Stripe's webhook events must arrive; null: unset. */
  publicApiUrl: string | null;
  gate: GateSettings;
  log: LogSettings;
  warnings: string[];
  /** Values that must never appear in any output. */
  secrets: string[];
}

/**
 * At most 1,000,000 s (11.5 days): the waits become timers and PostgreSQL timeouts in milliseconds, which hold
 * 2^31 - 1 at most, and the client's read timeout adds the lock wait and the statement timeout up.
 */
const MAX_SECONDS = 1_000_000;

/** A whole number of days from 1 to 36500, or '' (unset: 0). */
const days = makeValidator<number>((input: string) => {
  if (input === '') return 0;
  if (!/^\d{1,5}$/.test(input) || Number(input) < 1 || Number(input) > 36_500) throw new Error('not a number of days');
  return Number(input);
});

const seconds = makeValidator((input: string) => {
  if (!/^\d{1,9}$/.test(input) || Number(input) > MAX_SECONDS) throw new Error('not a whole number of seconds in range');
  return Number(input);
});

/** An http(s) base URL; a path is kept (a proxy's prefix), a query, fragment or credentials are refused. */
const httpUrl = makeValidator((input: string) => {
  const parsed = URL.canParse(input) ? new URL(input) : null;
  if (parsed?.protocol !== 'http:' && parsed?.protocol !== 'https:') throw new Error('not an http(s) URL');
  if (parsed.search || parsed.hash || parsed.username || parsed.password) throw new Error('a base URL takes no query, fragment or credentials');
  return input.replace(/\/+$/, '');
});

/** DOCKER_HOST as the docker CLI reads it (TLS endpoints are not supported). */
const dockerHost = makeValidator<GateSettings['docker']>((input: string) => {
  if (input.startsWith('unix://') && input.length > 'unix://'.length) return { socketPath: input.slice('unix://'.length) };
  const tcp = /^tcp:\/\/([^:/]+):(\d{1,5})\/?$/.exec(input);
  if (tcp) return { host: tcp[1], port: Number(tcp[2]) };
  throw new Error('not a Docker host');
});

const identifier = makeValidator((input: string) => {
  // Quoted everywhere, but kept to plain names so that it reads the same in psql and in the logs.
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(input) || /^pg_/i.test(input) || input === 'information_schema') {
    throw new Error('not a plain SQL identifier');
  }
  return input;
});

/** The gate's own settings; `desc` says what is accepted and is shown when a value is not. */
const gateSpecs = {
  STRIPE_GATE_ON_MISMATCH: str({ choices: ['refuse', 'clean'] as const, default: 'refuse', desc: 'refuse or clean' }),
  STRIPE_GATE_ON_UNKNOWN: str({
    choices: ['refuse', 'adopt', 'probe'] as const,
    default: 'refuse',
    desc: 'refuse, adopt or probe',
  }),
  STRIPE_GATE_DB_WAIT_SECONDS: seconds({ default: 60, desc: 'a whole number of seconds from 0 to 1000000' }),
  STRIPE_GATE_LOCK_WAIT_SECONDS: seconds({ default: 120, desc: 'a whole number of seconds from 0 to 1000000' }),
  STRIPE_GATE_SETTLE_SECONDS: seconds({ default: 300, desc: 'a whole number of seconds from 0 to 1000000' }),
  STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS: seconds({ default: 600, desc: 'a whole number of seconds from 1 to 1000000' }),
  STRIPE_GATE_STRIPE_API: str({ choices: ['auto', 'required', 'off'] as const, default: 'auto', desc: 'auto, required or off' }),
  STRIPE_GATE_PREFLIGHT: str({ choices: ['warn', 'refuse', 'off'] as const, default: 'warn', desc: 'warn, refuse or off' }),
  STRIPE_GATE_STRIPE_API_URL: httpUrl({ default: 'https://api.stripe.com', desc: 'an http(s) URL, optionally with a path prefix' }),
  STRIPE_GATE_SCHEMA: identifier({
    default: 'stripe_mode_gate',
    desc: 'a SQL identifier: letters, digits and _, not starting with a digit or pg_, at most 63 characters',
  }),
  STRIPE_GATE_TERMINATION_LOG: str({ default: '', desc: 'a file path' }),
  STRIPE_GATE_ARCHIVE_DAYS: days({ default: 0, desc: 'a whole number of days from 1 to 36500, or empty to keep archives until pruned' }),
  STRIPE_GATE_HEALTH_FILE: str({ default: '/tmp/stripe-mode-gate-watch.json', desc: 'a file path' }),
  STRIPE_GATE_WATCH_CONTAINERS: str({ default: '', desc: 'comma-separated container names or compose service names' }),
  DOCKER_HOST: dockerHost({ default: { socketPath: '/var/run/docker.sock' }, desc: 'unix:///path/to/docker.sock or tcp://host:port' }),
};

/** The gate's own variables, by name: what --help and the README must document (tested). */
export const GATE_VARIABLES = Object.keys(gateSpecs);

/**
 * Parses the environment into a typed, frozen configuration, reporting every invalid setting at once
 * (ConfigError, exit 78). The environment is a parameter so tests pass plain objects.
 */
export function loadConfig(processEnv: Env, defaults: { terminationLog: string | null }): Config {
  const rawEnv = asLaravelSees(processEnv);
  // Compose turns `VAR=${VAR}` into an empty string; an empty setting means "use the default".
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, value]) => value !== ''));
  const problems: string[] = [];
  const warnings: string[] = [];
  const invalid = new Set<string>();
  const gate = cleanEnv(env, gateSpecs, {
    reporter: ({ errors }) => {
      for (const name of Object.keys(errors) as (keyof typeof gateSpecs)[]) {
        invalid.add(name);
        const spec: Spec<unknown> = gateSpecs[name];
        problems.push(`${name}: expected ${spec.desc}`);
      }
    },
  });
  // envalid throws when an invalid setting is read: cross-checks look only at valid ones.
  const valid = (name: keyof typeof gateSpecs) => !invalid.has(name);
  if (valid('STRIPE_GATE_ON_UNKNOWN') && valid('STRIPE_GATE_STRIPE_API') && gate.STRIPE_GATE_ON_UNKNOWN === 'probe' && gate.STRIPE_GATE_STRIPE_API === 'off') {
    problems.push('STRIPE_GATE_ON_UNKNOWN: probe asks Stripe, but STRIPE_GATE_STRIPE_API=off; set it to auto or required, or choose refuse or adopt');
  }
  const { problems: logProblems, ...log } = readLogSettings(env);
  problems.push(...logProblems);
  if (valid('STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS') && gate.STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS === 0) {
    problems.push('STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS: expected a whole number of seconds from 1 to 1000000');
  }
  const database = readDatabaseSettings(env, problems);
  const { stripe, saasMode, secrets } = readStripeSide(processEnv, problems, warnings);
  if (problems.length > 0) throw new ConfigError(problems);
  const apiUrl = env.VITE_API_URL_CLIENT;
  const publicApiUrl = apiUrl && /^https?:$/.test(URL.canParse(apiUrl) ? new URL(apiUrl).protocol : '') ? apiUrl : null;
  if (apiUrl && !publicApiUrl) warnings.push('VITE_API_URL_CLIENT is not an http(s) URL: the webhook checklist does not compare endpoint hosts');

  // A network that stops delivering is noticed after the longest a statement may take, and a few seconds.
  const lockAndStatement = gate.STRIPE_GATE_LOCK_WAIT_SECONDS + gate.STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS;
  return Object.freeze({
    database: { ...database, answerTimeoutMs: (lockAndStatement + 5) * 1000 },
    stripe,
    saasMode,
    publicApiUrl,
    gate: Object.freeze({
      onMismatch: gate.STRIPE_GATE_ON_MISMATCH,
      onUnknown: gate.STRIPE_GATE_ON_UNKNOWN,
      dbWaitSeconds: gate.STRIPE_GATE_DB_WAIT_SECONDS,
      lockWaitSeconds: gate.STRIPE_GATE_LOCK_WAIT_SECONDS,
      settleSeconds: gate.STRIPE_GATE_SETTLE_SECONDS,
      statementTimeoutSeconds: gate.STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS,
      recordSwitches: true,
      stripeApi: gate.STRIPE_GATE_STRIPE_API,
      preflight: gate.STRIPE_GATE_PREFLIGHT,
      stripeApiUrl: gate.STRIPE_GATE_STRIPE_API_URL,
      schema: gate.STRIPE_GATE_SCHEMA,
      archiveDays: gate.STRIPE_GATE_ARCHIVE_DAYS || null,
      terminationLog: gate.STRIPE_GATE_TERMINATION_LOG || defaults.terminationLog,
      watchContainers: gate.STRIPE_GATE_WATCH_CONTAINERS.split(',')
        .map((name) => name.trim())
        .filter(Boolean),
      healthFile: gate.STRIPE_GATE_HEALTH_FILE,
      docker: gate.DOCKER_HOST,
    }),
    log,
    warnings,
    secrets: [...secrets, database.password].filter(Boolean),
  });
}

/**
 * What the backend's environment says about Stripe: its keys (through Laravel's env()), SaaS mode, and the
 * secret values to keep out of every output, raw and as Laravel reads them.
 */
function readStripeSide(processEnv: Env, problems: string[], warnings: string[]) {
  const env = asLaravelSees(processEnv);
  const stripe = readStripeSettings(env, problems, warnings);
  const saas = readSaasMode(processEnv.APP_SAAS_MODE_ENABLED);
  if (saas.warning) warnings.push(saas.warning);
  const secrets = [...new Set([...stripeSecrets(processEnv), ...stripeSecrets(env)])];
  return { stripe, saasMode: saas.enabled, secrets };
}

/**
 * The configuration a watched container starts with: its own Stripe keys and SaaS setting (read from its
 * environment through the Docker API), the watcher's database and gate settings.
 */
export function configForContainer(base: Config, containerEnv: Env): Config {
  const problems: string[] = [];
  const warnings: string[] = [];
  const { stripe, saasMode, secrets } = readStripeSide(containerEnv, problems, warnings);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ ...base, stripe, saasMode, warnings, secrets: [...new Set([...base.secrets, ...secrets])] });
}

import { writeSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import type { Config } from './config/env.js';
import type { LogSettings } from './config/log.js';
import { STRIPE_SECRET_PATTERN } from './stripe/keys.js';

export type { Logger };

/** Key paths that hold secrets wherever they appear in a log object. */
const REDACT_PATHS = ['password', 'secretKey', 'apiKey', '*.password', '*.secretKey', '*.apiKey', '*.*.secretKey'];

/** A password in a postgres URL: `postgresql://user:PASSWORD@` (and postgres://, pgsql://). */
const URL_PASSWORD = /((?:postgres(?:ql)?|pgsql):\/\/[^:/@\s"]*:)[^@\s"]+@/g;

/**
 * Known secret values shorter than this are not scrubbed by value: a database password such as "secret"
 * (the Hi.Events compose default) would otherwise blank ordinary words. They are kept out by construction.
 */
const MIN_SCRUBBED_LENGTH = 8;

/** Removes anything shaped like a Stripe secret, URL passwords and the given secret values from text. */
export function createScrubber(secrets: readonly string[]): (text: string) => string {
  const values = secrets
    .filter((s) => s.length >= MIN_SCRUBBED_LENGTH)
    .flatMap((s) => [s, JSON.stringify(s).slice(1, -1)])
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text.replace(STRIPE_SECRET_PATTERN, '[REDACTED]').replace(URL_PASSWORD, '$1***@');
    for (const value of values) out = out.split(value).join('[REDACTED]');
    return out;
  };
}

/**
 * pino on stderr (results go to stdout), redacting by key path and scrubbing every finished line, so that a
 * secret inside an error message or a stack is caught too.
 */
export async function createLogger(
  settings: LogSettings,
  secrets: readonly string[] = [],
  sink: (line: string) => void = (line) => void writeSync(2, line),
): Promise<Logger> {
  const scrub = createScrubber(secrets);
  let write = sink;
  if (settings.format === 'pretty') {
    const { default: pretty } = await import('pino-pretty');
    const stream = pretty({ destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
    write = (line) => void stream.write(line);
  }
  return pino(
    {
      name: 'stripe-mode-gate',
      level: settings.level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    },
    { write: (line: string) => write(scrub(line)) },
  );
}

/** The logger of a run: every line tagged with the configured Stripe mode, the run's secrets scrubbed. */
export async function gateLogger(config: Config, sink?: (line: string) => void): Promise<Logger> {
  const log = await createLogger(config.log, config.secrets, sink);
  return log.child({ stripeMode: config.stripe?.mode ?? 'none' });
}

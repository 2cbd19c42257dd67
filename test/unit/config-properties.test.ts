// Bad input, property-tested: hostile values for every setting always give a ConfigError naming the variable,
// never a crash, and never the value of a secret.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env.js';
import { ConfigError } from '../../src/errors.js';

const SECRET_KEY = /^(?:sk|rk)_(?:test|live)_[A-Za-z0-9]+$/;
const PUBLIC_KEY = /^pk_(?:test|live)_[A-Za-z0-9]+$/;

/** Strings of every kind: unicode, quotes, whitespace, SQL, huge. */
const hostile = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    "'; DROP TABLE accounts; --",
    '"quoted"',
    ' sk_test_51Spaced ',
    'sk_org_51Abc',
    'pk_test_51Abc',
    'sk_live_51Abc\n',
    'rk_prod_x',
    '%00',
    '\u0000',
    'NULL',
    '１２３',
  ),
  fc.string({ minLength: 5000, maxLength: 20000 }),
);

/** A value the variable must refuse (a hostile string that happens to be valid is skipped). */
const invalid: Record<string, (v: string) => boolean> = {
  STRIPE_SECRET_KEY: (v) => !SECRET_KEY.test(v.replace(/^(['"])(.*)\1$/s, '$2')),
  STRIPE_CA_SECRET_KEY: (v) => !SECRET_KEY.test(v.replace(/^(['"])(.*)\1$/s, '$2')),
  STRIPE_PUBLIC_KEY: (v) => !PUBLIC_KEY.test(v.replace(/^(['"])(.*)\1$/s, '$2')),
  STRIPE_GATE_ON_MISMATCH: (v) => !['refuse', 'clean'].includes(v),
  STRIPE_GATE_ON_UNKNOWN: (v) => !['refuse', 'adopt', 'probe'].includes(v),
  STRIPE_GATE_DB_WAIT_SECONDS: (v) => !/^\d{1,9}$/.test(v),
  STRIPE_GATE_LOCK_WAIT_SECONDS: (v) => !/^\d{1,9}$/.test(v),
  STRIPE_GATE_STRIPE_API: (v) => !['auto', 'required', 'off'].includes(v),
  STRIPE_GATE_SCHEMA: (v) => !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(v) || /^pg_/i.test(v),
  LOG_FORMAT: (v) => !['json', 'pretty'].includes(v),
  DB_PORT: (v) => !/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 65535,
};
const SECRETS = new Set(['STRIPE_SECRET_KEY', 'STRIPE_CA_SECRET_KEY', 'STRIPE_PUBLIC_KEY']);
// Laravel's env() reads these words as null/empty for the backend's variables: they mean "unset", not invalid.
const LARAVEL_WORDS = /^\(?(?:null|empty|true|false)\)?$/i;

describe('every invalid setting, whatever its value', () => {
  it.each(Object.keys(invalid))('%s: exit 78 naming it, never a crash, never the secret', (variable) => {
    fc.assert(
      fc.property(
        hostile.filter((v) => v !== '' && invalid[variable](v) && !LARAVEL_WORDS.test(v)),
        (value) => {
          const env = { STRIPE_SECRET_KEY: 'sk_test_51ValidBaseKey', [variable]: value };
          let error: unknown;
          try {
            loadConfig(env, { terminationLog: null });
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(ConfigError);
          const problems = (error as ConfigError).problems;
          expect(problems.some((p) => p.startsWith(`${variable}: `))).toBe(true);
          if (SECRETS.has(variable) && value.trim().length >= 4) {
            for (const problem of problems) expect(problem).not.toContain(value.trim());
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('malformed DATABASE_URLs are a named configuration error or a usable setting, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.webUrl(), fc.constantFrom('postgresql://', 'postgresql://u:p@', 'postgres://[::1', 'postgresql://u:%zz@h/d')), (url) => {
        try {
          const config = loadConfig({ DATABASE_URL: url }, { terminationLog: null });
          expect(typeof config.database.host).toBe('string');
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as ConfigError).problems.every((p) => p.startsWith('DATABASE_URL: '))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

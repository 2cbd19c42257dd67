// A DATABASE_URL whose password is not URL-encoded (a / ? # or @ in it) must never show any part of that
// password: not in the problems reported, not in the connection described for the logs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env.js';
import { describeDatabase } from '../../src/config/database.js';
import { ConfigError } from '../../src/errors.js';
import { brokenPassword, pieces } from '../support/passwords.js';

describe('a DATABASE_URL with a password that is not URL-encoded', () => {
  it('never shows four characters in a row of the password, in problems or in the described connection', () => {
    fc.assert(
      fc.property(brokenPassword, fc.constantFrom('postgresql', 'postgres', 'pgsql'), (password, scheme) => {
        const env = { DATABASE_URL: `${scheme}://hievents:${password}@db.internal:5432/hievents`, STRIPE_SECRET_KEY: 'sk_test_51UrlProperty0000' };
        let shown: string;
        try {
          const config = loadConfig(env, { terminationLog: null });
          // Parsed whole: the password went where a password goes.
          expect(config.database.password).toBe(decodeURIComponent(password.replace(/%(?![0-9A-Fa-f]{2})/g, '%25')));
          shown = describeDatabase(config.database);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          shown = (error as ConfigError).message;
        }
        for (const piece of pieces(password)) expect(shown).not.toContain(piece);
      }),
      { numRuns: 500 },
    );
  });

  it('an @ in the database name or a parameter cannot be told from a broken password: refused, saying to write %40, which works', () => {
    // u:@x/y@host/db: user u, an empty password and database "y@host/db"? Or the password "@x/y" unencoded?
    expect(() => loadConfig({ DATABASE_URL: 'postgresql://u:p@h/hi@events' }, { terminationLog: null })).toThrow(
      /an @ in the database name or a parameter must be %40 too/,
    );
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@h/hi%40events' }, { terminationLog: null }).database.database).toBe('hi@events');
  });

  it("names the likely cause: 'postgresql://u:5432/secretpart@host/db'", () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgresql://u:5432/secretpart@host/db' }, { terminationLog: null })).toThrow(
      /DATABASE_URL: holds '@' or '#' after the host, so a password with \/ \? # or @ is probably not URL-encoded/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { createLogger, createScrubber } from '../../src/logging.js';

async function capture(secrets: string[], fn: (log: Awaited<ReturnType<typeof createLogger>>) => void): Promise<string> {
  const lines: string[] = [];
  const log = await createLogger({ level: 'debug', format: 'json' }, secrets, (line) => void lines.push(line));
  fn(log);
  return lines.join('');
}

describe('logs never carry a secret', () => {
  it('redacts secret fields by key path', async () => {
    const out = await capture([], (log) => log.info({ password: 'pw-field', db: { password: 'pw-nested' }, key: { secretKey: 'k-nested' } }, 'x'));
    expect(out).not.toMatch(/pw-field|pw-nested|k-nested/);
    expect(out.match(/\[REDACTED\]/g)).toHaveLength(3);
  });

  it('scrubs anything shaped like a Stripe secret, in messages, fields and errors', async () => {
    const out = await capture([], (log) => {
      log.info('key sk_live_51AbCdEfGh was rejected');
      log.warn({ detail: 'rk_test_51Restricted and whsec_51WebhookSig' }, 'x');
      log.error({ err: new Error('Invalid API Key provided: sk_test_51InErrorStack') }, 'stripe said no');
    });
    expect(out).not.toMatch(/sk_live_51|rk_test_51|whsec_51|sk_test_51/);
    expect(out).toContain('key [REDACTED] was rejected');
  });

  it('masks the password of a postgres URL', async () => {
    const out = await capture([], (log) => log.info('connect to postgresql://user:hunter2hunter2@db:5432/x failed'));
    expect(out).toContain('postgresql://user:***@db:5432/x');
  });

  it('scrubs the configured secret values wherever they appear, raw or JSON-escaped', async () => {
    const password = 'p"a\\ss-w0rd-long';
    const out = await capture([password, 'plain-db-password'], (log) => {
      log.info({ detail: `the password is ${password}` }, 'x');
      log.info('and plain-db-password again');
    });
    expect(out).not.toContain('plain-db-password');
    expect(out).not.toContain(JSON.stringify(password).slice(1, -1));
    expect(
      out
        .split('\n')
        .filter(Boolean)
        .every((line) => JSON.parse(line)),
    ).toBe(true);
  });

  it('leaves short values alone rather than blanking ordinary words', () => {
    const scrub = createScrubber(['secret']);
    expect(scrub('the secret key')).toBe('the secret key');
  });
});

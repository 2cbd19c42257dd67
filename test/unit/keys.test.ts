import { describe, expect, it } from 'vitest';
import { isPlaceholder, keyFingerprint, keyMode } from '../../src/stripe/keys.js';

describe('the mode of a Stripe key comes from its prefix', () => {
  // Each key in its own slot (pk_ public, sk_ and rk_ secret), with the mode its prefix names.
  const valid = ['sk_test_51AbCdEf', 'rk_test_51AbCdEf', 'sk_live_51AbCdEf', 'rk_live_51AbCdEf', 'pk_test_51AbCdEf', 'pk_live_51AbCdEf'].map(
    (key) => [key, key.startsWith('pk_') ? 'public' : 'secret', key.includes('_live_') ? 'live' : 'test'] as const,
  );
  it.each(valid)('%s in the %s slot is %s', (value, slot, mode) => {
    expect(keyMode(value, slot)).toEqual({ mode });
  });

  // The values refused in one slot for one problem, as [value, slot, problem] rows.
  const refused = (slot: 'secret' | 'public', problem: string, values: string[]) => values.map((value) => [value, slot, problem] as const);
  const invalid = [
    ...refused('secret', 'holds a publishable key', ['pk_test_51AbCdEf']),
    ...refused('public', 'holds a secret key', ['sk_live_51AbCdEf', 'rk_test_51AbCdEf']),
    ...refused('secret', 'not a test or live Stripe key', ['sk_org_51AbCdEf', 'sk_tset_51AbCdEf', 'sk_test_', 'sk_test_51Ab-Ef', 'whsec_51AbCdEf']),
    ...refused('secret', 'whitespace or quotes', [' sk_test_51AbCdEf', 'sk_test_51AbCdEf\n', '"sk_test_51AbCdEf"']),
    ...refused('public', 'whitespace or quotes', ["'pk_live_51AbCdEf'"]),
  ];
  it.each(invalid)('%j in the %s slot: %s, without echoing the value', (value, slot, problem) => {
    const result = keyMode(value, slot);
    expect(result).toHaveProperty('problem');
    const text = (result as { problem: string }).problem;
    expect(text).toContain(problem);
    expect(text).not.toContain('51AbCdEf');
  });

  it('fingerprints a key with SHA-256 without keeping it', () => {
    const fp = keyFingerprint('sk_test_51AbCdEf');
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fp).toBe(keyFingerprint('sk_test_51AbCdEf'));
    expect(fp).not.toBe(keyFingerprint('sk_test_51AbCdEg'));
  });
});

describe('placeholders: values no Stripe account issued', () => {
  it.each(['sk_test_123456789', 'pk_test_123456789', 'whsec_test_123456789', 'sk_live_xxx', 'whsec_'])('%s is a placeholder', (value) => {
    expect(isPlaceholder(value)).toBe(true);
  });
  it.each(['sk_test_51GateTestSecretKey0000000000', 'rk_live_51GatePreflightRestricted0000', 'whsec_GateTestWebhookSecret000000'])('%s is not', (value) => {
    expect(isPlaceholder(value)).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { keyFingerprint, keyMode } from '../../src/stripe/keys.js';

describe('the mode of a Stripe key comes from its prefix', () => {
  it.each([
    ['sk_test_51AbCdEf', 'secret', 'test'],
    ['rk_test_51AbCdEf', 'secret', 'test'],
    ['sk_live_51AbCdEf', 'secret', 'live'],
    ['rk_live_51AbCdEf', 'secret', 'live'],
    ['pk_test_51AbCdEf', 'public', 'test'],
    ['pk_live_51AbCdEf', 'public', 'live'],
  ] as const)('%s in the %s slot is %s', (value, slot, mode) => {
    expect(keyMode(value, slot)).toEqual({ mode });
  });

  it.each([
    ['pk_test_51AbCdEf', 'secret', 'holds a publishable key'],
    ['sk_live_51AbCdEf', 'public', 'holds a secret key'],
    ['rk_test_51AbCdEf', 'public', 'holds a secret key'],
    ['sk_org_51AbCdEf', 'secret', 'not a test or live Stripe key'],
    ['sk_tset_51AbCdEf', 'secret', 'not a test or live Stripe key'],
    ['sk_test_', 'secret', 'not a test or live Stripe key'],
    ['sk_test_51Ab-Ef', 'secret', 'not a test or live Stripe key'],
    ['whsec_51AbCdEf', 'secret', 'not a test or live Stripe key'],
    [' sk_test_51AbCdEf', 'secret', 'whitespace or quotes'],
    ['sk_test_51AbCdEf\n', 'secret', 'whitespace or quotes'],
    ['"sk_test_51AbCdEf"', 'secret', 'whitespace or quotes'],
    ["'pk_live_51AbCdEf'", 'public', 'whitespace or quotes'],
  ] as const)('%j in the %s slot: %s, without echoing the value', (value, slot, problem) => {
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

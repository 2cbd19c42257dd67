import { describe, expect, it } from 'vitest';
import { compare, decide, NOTHING_FOUND, unverifiableKeys, type DecisionInput } from '../../src/decision.js';
import type { StripeState } from '../../src/marker/state.js';

const state = (stripeMode: 'test' | 'live', saasMode: boolean, accountId: string | null = null): StripeState => ({
  stripeMode,
  saasMode,
  platforms: { default: { accountId, keyFingerprint: 'f'.repeat(64) } },
});
const refuse = { onMismatch: 'refuse', onUnknown: 'refuse', recordSwitches: true } as const;
const input = (over: Partial<DecisionInput>): DecisionInput => ({
  configured: state('test', false),
  stored: state('test', false),
  ...NOTHING_FOUND,
  policy: refuse,
  ...over,
});

// The decision table (README, "What it does on each start"), row by row.
const table: [string, Partial<DecisionInput>, string, number][] = [
  ['no Stripe key', { configured: null }, 'skipped', 0],
  ['no Stripe key, even with a marker that differs', { configured: null, stored: state('live', true) }, 'skipped', 0],
  ['marker equals configuration', {}, 'match', 0],
  ['no marker, no ids', { stored: null }, 'recorded', 0],
  ['no marker, ids, ON_UNKNOWN=adopt', { stored: null, idsPresent: 3, policy: { ...refuse, onUnknown: 'adopt' } }, 'adopted', 0],
  ['no marker, ids, ON_UNKNOWN=refuse', { stored: null, idsPresent: 3 }, 'refused-unknown', 66],
  ['no marker, ids, ON_UNKNOWN=probe (inconclusive)', { stored: null, idsPresent: 3, policy: { ...refuse, onUnknown: 'probe' } }, 'refused-unknown', 66],
  [
    'no marker, ids, ON_UNKNOWN=probe, every sampled id found',
    { stored: null, idsPresent: 3, probeFound: true, policy: { ...refuse, onUnknown: 'probe' } },
    'adopted',
    0,
  ],
  ['no marker, ids, ON_UNKNOWN=refuse ignores a probe result', { stored: null, idsPresent: 3, probeFound: true }, 'refused-unknown', 66],
  [
    'a new key of the same account',
    {
      stored: state('test', false, 'acct_1A'),
      configured: { ...state('test', false, 'acct_1A'), platforms: { default: { accountId: 'acct_1A', keyFingerprint: 'e'.repeat(64) } } },
    },
    'updated',
    0,
  ],
  ['the account of the key learned only now', { stored: state('test', false), configured: state('test', false, 'acct_1A') }, 'updated', 0],
  [
    'a new key, and the marker knows no account: nothing can be proved either way',
    { configured: { ...state('test', false, 'acct_1B'), platforms: { default: { accountId: 'acct_1B', keyFingerprint: 'e'.repeat(64) } } } },
    'match',
    0,
  ],
  [
    'a new key whose account Stripe would not tell',
    { configured: { ...state('test', false), platforms: { default: { accountId: null, keyFingerprint: 'e'.repeat(64) } } } },
    'match',
    0,
  ],
  ['SaaS off -> on', { stored: state('test', false), configured: state('test', true), staleRows: 5 }, 'updated', 0],
  ['test -> live, stale rows, refuse', { configured: state('live', false), staleRows: 5 }, 'refused-mismatch', 65],
  ['live -> test, stale rows, refuse', { stored: state('live', false), staleRows: 1 }, 'refused-mismatch', 65],
  ['test -> live, stale rows, clean', { configured: state('live', false), staleRows: 5, policy: { ...refuse, onMismatch: 'clean' } }, 'cleaned', 0],
  ['test -> live, nothing stored to strand', { configured: state('live', false), staleRows: 0 }, 'updated', 0],
  ['SaaS on -> off, connect rows', { stored: state('test', true), staleRows: 2 }, 'refused-mismatch', 65],
  ['SaaS on -> off, clean', { stored: state('test', true), staleRows: 2, policy: { ...refuse, onMismatch: 'clean' } }, 'cleaned', 0],
  [
    'another Stripe account, same mode',
    { stored: state('test', false, 'acct_1A'), configured: state('test', false, 'acct_1B'), staleRows: 4 },
    'refused-mismatch',
    65,
  ],
  ['no marker, no ids counted, but a table of unknown shape', { stored: null, unknownSchema: true }, 'refused-unknown', 66],
  ['no marker, unknown shape, ON_UNKNOWN=adopt', { stored: null, unknownSchema: true, policy: { ...refuse, onUnknown: 'adopt' } }, 'adopted', 0],
  [
    'test -> live, unknown shape, clean: never repairs',
    { configured: state('live', false), staleRows: 5, unknownSchema: true, policy: { ...refuse, onMismatch: 'clean' } },
    'refused-mismatch',
    65,
  ],
  ['test -> live, no rows counted, unknown shape', { configured: state('live', false), unknownSchema: true }, 'refused-mismatch', 65],
  ['unknown shape does not matter on a match', { unknownSchema: true }, 'match', 0],
  [
    'test -> live, clean, a table with stale rows may not be written: never repairs',
    { configured: state('live', false), staleRows: 5, repairBlocked: true, policy: { ...refuse, onMismatch: 'clean' } },
    'refused-mismatch',
    65,
  ],
  ['an obstacle on a table with nothing to repair does not stop a new install', { stored: null, repairBlocked: false }, 'recorded', 0],
  ['test -> live with nothing stranded is updated, whatever blocks a repair', { configured: state('live', false), staleRows: 0 }, 'updated', 0],
  [
    'test -> live right after the marker changed: refused even with nothing stranded',
    { configured: state('live', false), settling: true },
    'refused-mismatch',
    65,
  ],
  [
    'test -> live right after the marker changed, clean: refused',
    { configured: state('live', false), staleRows: 5, settling: true, policy: { ...refuse, onMismatch: 'clean' } },
    'refused-mismatch',
    65,
  ],
  ['SaaS off -> on right after the marker changed: refused', { configured: state('test', true), settling: true }, 'refused-mismatch', 65],
  ['a match right after the marker changed', { settling: true }, 'match', 0],
  [
    'the watcher: test -> live with nothing stranded is left to the init gate',
    { configured: state('live', false), policy: { ...refuse, recordSwitches: false } },
    'refused-mismatch',
    65,
  ],
  [
    'the watcher: SaaS off -> on is left to the init gate',
    { configured: state('test', true), policy: { ...refuse, recordSwitches: false } },
    'refused-mismatch',
    65,
  ],
  [
    'the watcher: the account of the key learned is recorded',
    { configured: state('test', false, 'acct_1A'), policy: { ...refuse, recordSwitches: false } },
    'updated',
    0,
  ],
  ['the account learned right after the marker changed: updated', { configured: state('test', false, 'acct_1A'), settling: true }, 'updated', 0],
  ['same account known on one side only', { stored: state('test', false, 'acct_1A'), configured: state('test', false) }, 'match', 0],
];

describe('decide', () => {
  it.each(table)('%s -> %s (exit %i)', (_name, over, decision, exitCode) => {
    const outcome = decide(input(over));
    expect(outcome.decision).toBe(decision);
    expect(outcome.exitCode).toBe(exitCode);
  });
});

describe('compare', () => {
  it.each([
    [state('test', false), state('test', false), 'none'],
    [state('test', false), state('live', false), 'mode'],
    [state('test', true), state('live', false), 'mode'],
    [state('test', true), state('test', false), 'saas-disabled'],
    [state('test', false), state('test', true), 'saas-enabled'],
    [state('live', false, 'acct_1A'), state('live', true, 'acct_1B'), 'account'],
  ] as const)('%j vs %j -> %s', (stored, configured, change) => {
    expect(compare(stored, configured)).toBe(change);
  });
});

describe('unverifiableKeys', () => {
  const withKey = (s: StripeState, fingerprint: string) => ({ ...s, platforms: { default: { ...s.platforms.default!, keyFingerprint: fingerprint } } });
  it.each([
    ['same key, account known on both sides', state('test', false, 'acct_1A'), state('test', false, 'acct_1A'), []],
    ['same key, account unknown now (API off)', state('test', false, 'acct_1A'), state('test', false), []],
    [
      'new key, account unknown now',
      state('test', false, 'acct_1A'),
      withKey(state('test', false), 'e'.repeat(64)),
      [{ platform: 'default', storedAccount: 'acct_1A' }],
    ],
    [
      'new key, the marker never knew the account',
      state('test', false),
      withKey(state('test', false, 'acct_1B'), 'e'.repeat(64)),
      [{ platform: 'default', storedAccount: null }],
    ],
    ['new key, both accounts known (compare decides)', state('test', false, 'acct_1A'), withKey(state('test', false, 'acct_1B'), 'e'.repeat(64)), []],
  ] as const)('%s', (_name, stored, configured, expected) => {
    expect(unverifiableKeys(stored, configured)).toEqual(expected);
  });
});

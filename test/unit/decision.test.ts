import { describe, expect, it } from 'vitest';
import { compare, decide, NOTHING_FOUND, unverifiableKeys, type Decision, type DecisionInput } from '../../src/decision.js';
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

const adopt = { ...refuse, onUnknown: 'adopt' } as const;
const probe = { ...refuse, onUnknown: 'probe' } as const;
const clean = { ...refuse, onMismatch: 'clean' } as const;
const watcher = { ...refuse, recordSwitches: false } as const;
/** `s` with a key of another fingerprint: a new key. */
const withKey = (s: StripeState, fingerprint: string) => ({ ...s, platforms: { default: { ...s.platforms.default!, keyFingerprint: fingerprint } } });
const newKey = (s: StripeState) => withKey(s, 'e'.repeat(64));
const live = state('live', false);
const saas = state('test', true);
const inAccountA = state('test', false, 'acct_1A');

/** The exit code that goes with each decision (the README's table, written out here rather than read from src). */
const EXIT: Record<Decision, number> = { skipped: 0, match: 0, recorded: 0, adopted: 0, updated: 0, cleaned: 0, 'refused-mismatch': 65, 'refused-unknown': 66 };

// The decision table (README, "What it does on each start"), row by row: what differs from `input`, and the decision.
const table: [string, Partial<DecisionInput>, Decision][] = [
  ['no Stripe key', { configured: null }, 'skipped'],
  ['no Stripe key, even with a marker that differs', { configured: null, stored: state('live', true) }, 'skipped'],
  ['marker equals configuration', {}, 'match'],
  ['no marker, no ids', { stored: null }, 'recorded'],
  ['no marker, ids, ON_UNKNOWN=adopt', { stored: null, idsPresent: 3, policy: adopt }, 'adopted'],
  ['no marker, ids, ON_UNKNOWN=refuse', { stored: null, idsPresent: 3 }, 'refused-unknown'],
  ['no marker, ids, ON_UNKNOWN=probe (inconclusive)', { stored: null, idsPresent: 3, policy: probe }, 'refused-unknown'],
  ['no marker, ids, ON_UNKNOWN=probe, every sampled id found', { stored: null, idsPresent: 3, probeFound: true, policy: probe }, 'adopted'],
  ['no marker, ids, ON_UNKNOWN=refuse ignores a probe result', { stored: null, idsPresent: 3, probeFound: true }, 'refused-unknown'],
  ['a new key of the same account', { stored: inAccountA, configured: newKey(inAccountA) }, 'updated'],
  ['the account of the key learned only now', { stored: state('test', false), configured: inAccountA }, 'updated'],
  ['a new key, and the marker knows no account: nothing can be proved either way', { configured: newKey(state('test', false, 'acct_1B')) }, 'match'],
  ['a new key whose account Stripe would not tell', { configured: newKey(state('test', false)) }, 'match'],
  ['SaaS off -> on', { stored: state('test', false), configured: saas, staleRows: 5 }, 'updated'],
  ['test -> live, stale rows, refuse', { configured: live, staleRows: 5 }, 'refused-mismatch'],
  ['live -> test, stale rows, refuse', { stored: live, staleRows: 1 }, 'refused-mismatch'],
  ['test -> live, stale rows, clean', { configured: live, staleRows: 5, policy: clean }, 'cleaned'],
  ['test -> live, nothing stored to strand', { configured: live, staleRows: 0 }, 'updated'],
  ['SaaS on -> off, connect rows', { stored: saas, staleRows: 2 }, 'refused-mismatch'],
  ['SaaS on -> off, clean', { stored: saas, staleRows: 2, policy: clean }, 'cleaned'],
  ['another Stripe account, same mode', { stored: inAccountA, configured: state('test', false, 'acct_1B'), staleRows: 4 }, 'refused-mismatch'],
  ['no marker, no ids counted, but a table of unknown shape', { stored: null, unknownSchema: true }, 'refused-unknown'],
  ['no marker, unknown shape, ON_UNKNOWN=adopt', { stored: null, unknownSchema: true, policy: adopt }, 'adopted'],
  ['test -> live, unknown shape, clean: never repairs', { configured: live, staleRows: 5, unknownSchema: true, policy: clean }, 'refused-mismatch'],
  ['test -> live, no rows counted, unknown shape', { configured: live, unknownSchema: true }, 'refused-mismatch'],
  ['unknown shape does not matter on a match', { unknownSchema: true }, 'match'],
  [
    'test -> live, clean, a table with stale rows may not be written: never repairs',
    { configured: live, staleRows: 5, repairBlocked: true, policy: clean },
    'refused-mismatch',
  ],
  ['an obstacle on a table with nothing to repair does not stop a new install', { stored: null, repairBlocked: false }, 'recorded'],
  ['test -> live with nothing stranded is updated, whatever blocks a repair', { configured: live, staleRows: 0 }, 'updated'],
  ['test -> live right after the marker changed: refused even with nothing stranded', { configured: live, settling: true }, 'refused-mismatch'],
  ['test -> live right after the marker changed, clean: refused', { configured: live, staleRows: 5, settling: true, policy: clean }, 'refused-mismatch'],
  ['SaaS off -> on right after the marker changed: refused', { configured: saas, settling: true }, 'refused-mismatch'],
  ['a match right after the marker changed', { settling: true }, 'match'],
  ['the watcher: test -> live with nothing stranded is left to the init gate', { configured: live, policy: watcher }, 'refused-mismatch'],
  ['the watcher: SaaS off -> on is left to the init gate', { configured: saas, policy: watcher }, 'refused-mismatch'],
  ['the watcher: the account of the key learned is recorded', { configured: inAccountA, policy: watcher }, 'updated'],
  ['the account learned right after the marker changed: updated', { configured: inAccountA, settling: true }, 'updated'],
  ['same account known on one side only', { stored: inAccountA, configured: state('test', false) }, 'match'],
];

describe('decide', () => {
  it.each(table.map(([name, over, decision]) => [name, over, decision, EXIT[decision]] as const))('%s -> %s (exit %i)', (_name, over, decision, exitCode) => {
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

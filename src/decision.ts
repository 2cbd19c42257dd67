import type { StaleScope } from './hievents/catalogue.js';
import type { GateSettings } from './config/env.js';
import { ExitCode, type ExitCodeValue } from './errors.js';
import type { StripeState } from './marker/state.js';

export type Decision = 'skipped' | 'match' | 'recorded' | 'adopted' | 'updated' | 'cleaned' | 'refused-mismatch' | 'refused-unknown';

export const DECISION_EXIT: Record<Decision, ExitCodeValue> = {
  skipped: ExitCode.ok,
  match: ExitCode.ok,
  recorded: ExitCode.ok,
  adopted: ExitCode.ok,
  updated: ExitCode.ok,
  cleaned: ExitCode.ok,
  'refused-mismatch': ExitCode.refusedMismatch,
  'refused-unknown': ExitCode.refusedUnknown,
};

/**
 * How the configuration differs from the marker, the widest difference first. `identity`: a key's account
 * became known, or a new key of the same account: nothing is stranded, but the marker should learn it.
 */
export type Change = 'none' | 'mode' | 'account' | 'saas-disabled' | 'saas-enabled' | 'identity';

export function compare(stored: StripeState, configured: StripeState): Change {
  if (stored.stripeMode !== configured.stripeMode) return 'mode';
  const pairs = Object.entries(configured.platforms).map(([p, now]) => [stored.platforms[p as keyof StripeState['platforms']], now] as const);
  // An account known on one side only is no evidence of a switch: mode and SaaS decide (README, STRIPE_GATE_STRIPE_API=auto).
  if (pairs.some(([then, now]) => then?.accountId && now.accountId && then.accountId !== now.accountId)) return 'account';
  if (stored.saasMode && !configured.saasMode) return 'saas-disabled';
  if (!stored.saasMode && configured.saasMode) return 'saas-enabled';
  // The marker learns: the account of the very key it holds, or a new key of the account it knows. A new
  // key where the marker knows no account proves nothing either way (see unverifiableKeys).
  const learned = ([then, now]: (typeof pairs)[number]) =>
    now.accountId !== null &&
    ((then?.keyFingerprint === now.keyFingerprint && !then.accountId) || (then?.accountId === now.accountId && then.keyFingerprint !== now.keyFingerprint));
  if (pairs.some(learned)) return 'identity';
  return 'none';
}

/**
 * Platforms whose key changed while one side's account is unknown: the marker never learned it, or it could
 * not be asked now (STRIPE_GATE_STRIPE_API=off, Stripe away). A switch to another account cannot be ruled out.
 */
export function unverifiableKeys(stored: StripeState, configured: StripeState): { platform: string; storedAccount: string | null }[] {
  return Object.entries(configured.platforms).flatMap(([p, now]) => {
    const then = stored.platforms[p as keyof StripeState['platforms']];
    const unknown = !then?.accountId || !now.accountId;
    return unknown && then?.keyFingerprint !== now.keyFingerprint ? [{ platform: p, storedAccount: then?.accountId ?? null }] : [];
  });
}

/** The changes that move the marker to another configuration, as opposed to learning more of the same one. */
const FLIPS: readonly Change[] = ['mode', 'account', 'saas-disabled', 'saas-enabled'];

/** Which stored ids a change strands; null when it strands none. */
export function staleScope(change: Change): StaleScope | null {
  switch (change) {
    case 'mode':
    case 'account':
      return 'everything';
    case 'saas-disabled':
      return 'connect';
    default:
      return null;
  }
}

export interface DecisionInput {
  configured: StripeState | null;
  stored: StripeState | null;
  /** Rows holding Stripe ids in use (customers, connected accounts); needed when there is no marker. */
  idsPresent: number;
  /** Rows the change strands; needed when the marker differs. */
  staleRows: number;
  /** A known table has a shape of no Hi.Events release: its ids cannot all be counted, nor repaired. */
  unknownSchema: boolean;
  /** A table with stale rows may not be written by the gate (a view, a trigger, a table referencing it...). */
  repairBlocked: boolean;
  /** Without a marker, STRIPE_GATE_ON_UNKNOWN=probe found every sampled id with the configured key. */
  probeFound: boolean;
  /** The marker was recorded less than STRIPE_GATE_SETTLE_SECONDS ago: a backend may still run with it. */
  settling: boolean;
  policy: Pick<GateSettings, 'onMismatch' | 'onUnknown' | 'recordSwitches'>;
}

/** The facts of a database where nothing was found: no ids, nothing stale, nothing in the way. */
export const NOTHING_FOUND = {
  idsPresent: 0,
  staleRows: 0,
  unknownSchema: false,
  repairBlocked: false,
  probeFound: false,
  settling: false,
} as const satisfies Partial<DecisionInput>;

export interface Outcome {
  decision: Decision;
  exitCode: ExitCodeValue;
  change: Change | null;
}

/** The decision table (README, "What it does on each start"; docs/ARCHITECTURE.md), as a pure function: I/O happens around it. */
export function decide(input: DecisionInput): Outcome {
  const outcome = (decision: Decision, change: Change | null = null): Outcome => ({
    decision,
    exitCode: DECISION_EXIT[decision],
    change,
  });
  const { configured, stored, policy } = input;
  if (!configured) return outcome('skipped');
  if (!stored) {
    if (input.idsPresent === 0 && !input.unknownSchema) return outcome('recorded');
    // probe asks Stripe; when it cannot tell, the ids stay of unknown origin.
    const adopt = policy.onUnknown === 'adopt' || (policy.onUnknown === 'probe' && input.probeFound);
    return outcome(adopt ? 'adopted' : 'refused-unknown');
  }
  const change = compare(stored, configured);
  if (change === 'none') return outcome('match', change);
  // Two configurations at once (replicas with different keys, a rollout under way): the marker must not flip
  // between them while the backend started on the newer one may still run.
  if (input.settling && FLIPS.includes(change)) return outcome('refused-mismatch', change);
  // Nothing stored is stranded (SaaS off -> on, or no ids yet): only the marker moves.
  if (staleScope(change) === null || (input.staleRows === 0 && !input.unknownSchema)) {
    return policy.recordSwitches || !FLIPS.includes(change) ? outcome('updated', change) : outcome('refused-mismatch', change);
  }
  const repair = policy.onMismatch === 'clean' && !input.unknownSchema && !input.repairBlocked;
  return outcome(repair ? 'cleaned' : 'refused-mismatch', change);
}

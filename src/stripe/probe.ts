import type { Logger } from '../logging.js';
import type { StoredIds } from '../hievents/sample.js';
import type { GateSettings } from '../config/env.js';
import { isUnreachable, stripeClient, stripeErrorSummary, stripeUnavailable, type StripeBudget } from './api.js';
import type { StripeMode } from './keys.js';

/** How many customers and how many connected accounts a probe asks Stripe about, at most. */
export const PROBE_SAMPLE = 3;

export type ProbeVerdict =
  | { verdict: 'found'; checked: number }
  | { verdict: 'other-mode'; mode: StripeMode; evidence: string }
  | { verdict: 'inconclusive'; reason: string };

/**
 * Stripe's own words when an id lives in the other mode of the same account (HIEVENTS.md): "a similar object
 * exists in test mode, but a live mode key was used", and for Connect accounts "The account acct_... was a
 * test account created with a testmode key".
 */
const OTHER_MODE = [/similar object exists in (test|live) mode/, /was a (test|live) account created with a (?:test|live)mode key/];

function otherMode(message: string): StripeMode | null {
  for (const pattern of OTHER_MODE) {
    const match = pattern.exec(message);
    if (match) return match[1] as StripeMode;
  }
  return null;
}

/**
 * Asks Stripe, with the configured key, for a few of the stored ids. All found: they belong to this
 * configuration. Stripe says they exist in the other mode: they came from there. Anything else (not found
 * without a hint, errors, Stripe away): nobody can tell.
 */
export async function probe(
  secretKey: string,
  gate: Pick<GateSettings, 'stripeApi' | 'stripeApiUrl'>,
  ids: StoredIds,
  budget: StripeBudget,
  log: Logger,
): Promise<ProbeVerdict> {
  const stripe = await stripeClient(secretKey, gate.stripeApiUrl, budget);
  const lookups = [
    ...ids.customers.map((c) => ({
      id: c.id,
      fetch: (): Promise<unknown> => stripe.customers.retrieve(c.id, {}, c.account ? { stripeAccount: c.account } : undefined),
    })),
    ...ids.accounts.map((id) => ({ id, fetch: (): Promise<unknown> => stripe.accounts.retrieve(id) })),
  ];
  if (lookups.length === 0) return { verdict: 'inconclusive', reason: 'no id in use to ask Stripe about' };
  for (const lookup of lookups) {
    try {
      await budget.run(lookup.fetch);
    } catch (error) {
      const summary = stripeErrorSummary(error);
      log.debug({ id: lookup.id, stripeError: summary }, 'probe: Stripe did not return a stored id');
      // An outage is not a verdict on the ids: with `required`, it is the outage that is reported (69).
      if (gate.stripeApi === 'required' && isUnreachable(error)) throw stripeUnavailable(error);
      const mode = otherMode(summary.message);
      if (mode) return { verdict: 'other-mode', mode, evidence: `${lookup.id}: ${summary.message}` };
      return { verdict: 'inconclusive', reason: `${lookup.id}: ${summary.message}` };
    }
  }
  return { verdict: 'found', checked: lookups.length };
}

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
 * Asks Stripe, with the configured key, for each of a few stored ids. Every answer must tell the same story:
 * all found, they belong to this configuration; all said to exist in the same other mode, they came from
 * there. A mix (one stray id of another mode among valid ones), or anything else (not found without a hint,
 * errors, Stripe away): nobody can tell, and the reason lists what Stripe said of each id.
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
  const said: { id: string; story: 'found' | StripeMode | 'unknown'; words: string }[] = [];
  for (const lookup of lookups) {
    try {
      await budget.run(lookup.fetch);
      said.push({ id: lookup.id, story: 'found', words: 'found' });
    } catch (error) {
      const summary = stripeErrorSummary(error);
      log.debug({ id: lookup.id, stripeError: summary }, 'probe: Stripe did not return a stored id');
      // An outage is not a verdict on the ids: with `required`, it is the outage that is reported (69).
      if (gate.stripeApi === 'required' && isUnreachable(error)) throw stripeUnavailable(error);
      said.push({ id: lookup.id, story: otherMode(summary.message) ?? 'unknown', words: summary.message });
    }
  }
  const stories = new Set(said.map((s) => s.story));
  const evidence = said.map((s) => `${s.id}: ${s.words}`).join('; ');
  const [only] = stories;
  if (stories.size === 1 && only === 'found') return { verdict: 'found', checked: said.length };
  if (stories.size === 1 && (only === 'test' || only === 'live')) return { verdict: 'other-mode', mode: only, evidence };
  const mixed = stories.size > 1 ? 'the sampled ids do not all tell the same story' : 'Stripe did not say where they come from';
  return { verdict: 'inconclusive', reason: `${mixed} (${evidence})` };
}

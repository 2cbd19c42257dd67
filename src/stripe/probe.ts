import type { Logger } from '../logging.js';
import type { StoredId } from '../hievents/sample.js';
import type { GateSettings } from '../config/env.js';
import { isUnreachable, stripeClient, stripeErrorSummary, stripeUnavailable, type StripeBudget } from './api.js';
import { StoppedError } from '../errors.js';
import type { StripeMode } from './keys.js';

/** How many customers and how many connected accounts a probe asks Stripe about, at most. */
export const PROBE_SAMPLE = 3;

export type ProbeVerdict =
  | { verdict: 'found'; checked: number }
  | { verdict: 'other-mode'; mode: StripeMode; evidence: string }
  | { verdict: 'inconclusive'; reason: string };

/**
 * Stripe's own words when an id lives in the other mode of the same account (README, "Which Stripe account"): "a similar object
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

/** What Stripe said of one stored id asked for with the configured key. */
export interface IdAnswer {
  id: string;
  /**
   * found; the mode it exists in instead (Stripe's cross-mode hint); missing (no such object, or an account
   * the key has no access to); unreachable (no answer: network, timeout, 5xx, rate limit); error (anything
   * else, such as a rejected key: no verdict on the id).
   */
  story: 'found' | StripeMode | 'missing' | 'unreachable' | 'error';
  words: string;
}

/**
 * Asks Stripe, with the configured key, for each id in turn, inside the run's budget. With
 * STRIPE_GATE_STRIPE_API=required an outage is not an answer: it is thrown (69).
 */
export async function askStripe(
  secretKey: string,
  gate: Pick<GateSettings, 'stripeApi' | 'stripeApiUrl'>,
  lookups: readonly StoredId[],
  budget: StripeBudget,
  log: Logger,
): Promise<IdAnswer[]> {
  if (lookups.length === 0) return [];
  const stripe = await stripeClient(secretKey, gate.stripeApiUrl, budget);
  const said: IdAnswer[] = [];
  for (const lookup of lookups) {
    const fetch = (): Promise<unknown> =>
      lookup.kind === 'customer'
        ? stripe.customers.retrieve(lookup.id, {}, lookup.account ? { stripeAccount: lookup.account } : undefined)
        : stripe.accounts.retrieve(lookup.id);
    try {
      await budget.run(fetch);
      said.push({ id: lookup.id, story: 'found', words: 'found' });
    } catch (error) {
      if (error instanceof StoppedError) throw error;
      const summary = stripeErrorSummary(error);
      log.debug({ id: lookup.id, stripeError: summary }, 'Stripe did not return a stored id');
      if (gate.stripeApi === 'required' && isUnreachable(error)) throw stripeUnavailable(error);
      // Stripe's own codes only: a bare 404 is as likely a wrong STRIPE_GATE_STRIPE_API_URL as a missing id.
      const missing = summary.code === 'resource_missing' || summary.code === 'account_invalid';
      const story = otherMode(summary.message) ?? (isUnreachable(error) ? 'unreachable' : missing ? 'missing' : 'error');
      said.push({ id: lookup.id, story, words: summary.message });
    }
  }
  return said;
}

/**
 * Asks Stripe about a few stored ids. Every answer must tell the same story: all found, they belong to this
 * configuration; all said to exist in the same other mode, they came from there. A mix (one stray id of
 * another mode among valid ones), or anything else (not found without a hint, errors, Stripe away): nobody
 * can tell, and the reason lists what Stripe said of each id.
 */
export async function probe(
  secretKey: string,
  gate: Pick<GateSettings, 'stripeApi' | 'stripeApiUrl'>,
  ids: readonly StoredId[],
  budget: StripeBudget,
  log: Logger,
): Promise<ProbeVerdict> {
  const said = await askStripe(secretKey, gate, ids, budget, log);
  if (said.length === 0) return { verdict: 'inconclusive', reason: 'no id in use to ask Stripe about' };
  const stories = new Set(said.map((s) => s.story));
  const evidence = said.map((s) => `${s.id}: ${s.words}`).join('; ');
  const [only] = stories;
  if (stories.size === 1 && only === 'found') return { verdict: 'found', checked: said.length };
  if (stories.size === 1 && (only === 'test' || only === 'live')) return { verdict: 'other-mode', mode: only, evidence };
  const mixed = stories.size > 1 ? 'the sampled ids do not all tell the same story' : 'Stripe did not say where they come from';
  return { verdict: 'inconclusive', reason: `${mixed} (${evidence})` };
}

import type { GateSettings } from '../config/env.js';
import type { Platform, StripeSettings } from '../config/stripe.js';
import type { Logger } from '../logging.js';
import type { StripeState } from '../marker/state.js';
import { isUnreachable, keyRejected, stripeClient, stripeErrorSummary, stripeUnavailable, type StripeBudget } from './api.js';

/**
 * Fills in the Stripe account of each configured key (GET /v1/account), so that a switch to another account
 * or sandbox with the same key prefix is seen too. A key whose fingerprint and account the marker already
 * holds is not asked about: the same key belongs to the same account, and every start pays for a call.
 * When Stripe cannot be reached, `auto` leaves the account unknown (mode and SaaS are still compared);
 * `required` fails with 69.
 */
export async function identify(
  configured: StripeState,
  stored: StripeState | null,
  keys: StripeSettings,
  gate: Pick<GateSettings, 'stripeApi' | 'stripeApiUrl'>,
  budget: StripeBudget,
  log: Logger,
): Promise<StripeState> {
  if (gate.stripeApi === 'off') return configured;
  const known = new Map<string, string | null>();
  const platforms: StripeState['platforms'] = {};
  for (const [platform, identity] of Object.entries(configured.platforms) as [Platform, StripeState['platforms'][Platform] & {}][]) {
    const fingerprint = identity.keyFingerprint!;
    const remembered = stored?.platforms[platform];
    // Only a remembered account can be reused; an unknown one is learned at the first start Stripe answers.
    if (remembered?.keyFingerprint === fingerprint && remembered.accountId) {
      platforms[platform] = { ...identity, accountId: remembered.accountId };
      continue;
    }
    if (!known.has(fingerprint)) known.set(fingerprint, await accountOf(keys.platforms[platform]!, gate, budget, log));
    platforms[platform] = { ...identity, accountId: known.get(fingerprint)! };
  }
  return { ...configured, platforms };
}

async function accountOf(
  key: { variable: string; secretKey: string },
  gate: Pick<GateSettings, 'stripeApi' | 'stripeApiUrl'>,
  budget: StripeBudget,
  log: Logger,
): Promise<string | null> {
  try {
    const stripe = await stripeClient(key.secretKey, gate.stripeApiUrl, budget);
    const account = await budget.run(() => stripe.accounts.retrieveCurrent());
    log.debug({ variable: key.variable, account: account.id }, 'Stripe account of the key');
    return account.id;
  } catch (error) {
    const summary = stripeErrorSummary(error);
    if (summary.statusCode === 401) throw keyRejected(key.variable, error);
    const unreachable = isUnreachable(error);
    if (gate.stripeApi === 'required') throw unreachable ? stripeUnavailable(error) : keyRejected(key.variable, error);
    log.warn(
      { variable: key.variable, stripeError: summary },
      unreachable
        ? 'Stripe could not be reached: comparing Stripe mode and SaaS mode only (STRIPE_GATE_STRIPE_API=auto)'
        : `Stripe would not tell the account of ${key.variable}: comparing Stripe mode and SaaS mode only`,
    );
    return null;
  }
}

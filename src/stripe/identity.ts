import type { GateSettings } from '../config/env.js';
import type { Platform, StripeSettings } from '../config/stripe.js';
import type { Logger } from '../logging.js';
import type { StripeState } from '../marker/state.js';
import { ConfigurationError, KeyRejectedError, StoppedError } from '../errors.js';
import { stripeClient, stripeErrorSummary, stripeFailure, stripeUnavailable, type StripeBudget } from './api.js';

/**
 * Fills in the Stripe account of each configured key (GET /v1/account), so that a switch to another account
 * or sandbox with the same key prefix is seen too. A key whose fingerprint and account the marker already
 * holds is not asked about: the same key belongs to the same account, and every start pays for a call.
 * When Stripe cannot be reached or refuses the key, `auto` leaves the account unknown (mode and SaaS are
 * still compared) and warns: the gate never keeps Hi.Events down for a key Hi.Events itself starts with
 * (its example value sk_test_123456789). `required` fails: 69 for an outage, 78 for a refusal.
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
    if (error instanceof StoppedError) throw error;
    const failure = stripeFailure(error, 'GET /v1/account');
    if (gate.stripeApi === 'required') {
      if (failure.kind === 'unavailable') throw stripeUnavailable(error);
      const message = `${key.variable}: ${failure.words} (STRIPE_GATE_STRIPE_API=required)`;
      // Only a refusal of the key itself is the backend's own configuration (the watcher stops it for that);
      // a wrong API URL or an odd answer is the gate's.
      if (failure.kind === 'rejected' || failure.kind === 'forbidden') throw new KeyRejectedError(message, { cause: error });
      throw new ConfigurationError(message, { cause: error });
    }
    const consequence =
      failure.kind === 'rejected'
        ? '; payments will fail with this key until it is replaced'
        : failure.kind === 'path'
          ? '; fix STRIPE_GATE_STRIPE_API_URL'
          : '';
    log.warn(
      { variable: key.variable, stripeError: stripeErrorSummary(error) },
      `${key.variable}: ${failure.words}${consequence}. Comparing Stripe mode and SaaS mode only (STRIPE_GATE_STRIPE_API=auto); no account is recorded`,
    );
    return null;
  }
}

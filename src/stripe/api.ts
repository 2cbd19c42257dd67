import type Stripe from 'stripe';
import { KeyRejectedError, UnavailableError } from '../errors.js';

/**
 * An init container must not hang on a dead network: each request gets a few seconds and one retry, and all
 * Stripe work of a run shares one budget.
 */
export const STRIPE_LIMITS = { requestTimeoutMs: 4000, retries: 1, budgetMs: 12_000 };

/**
 * A Stripe client for one secret key, its timeout and retries cut to what is left of the run's budget (a
 * request abandoned by the budget must not go on, or retry, behind the gate's back). The SDK is loaded only
 * when a run needs it.
 */
export async function stripeClient(secretKey: string, apiUrl: string, budget: StripeBudget): Promise<Stripe> {
  const { default: StripeSdk } = await import('stripe');
  const url = new URL(apiUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const timeout = Math.max(1, Math.min(STRIPE_LIMITS.requestTimeoutMs, budget.leftMs));
  return new StripeSdk(secretKey, {
    host: url.hostname,
    port: Number(url.port) || (protocol === 'http' ? 80 : 443),
    protocol,
    timeout,
    maxNetworkRetries: budget.leftMs >= 2 * STRIPE_LIMITS.requestTimeoutMs ? STRIPE_LIMITS.retries : 0,
    telemetry: false,
  });
}

/** What may be logged of a Stripe error: never its request, headers or raw body. */
export function stripeErrorSummary(error: unknown): { type?: string; code?: string; statusCode?: number; message: string } {
  const e = error as { type?: string; code?: string; statusCode?: number; message?: string };
  return { type: e.type, code: e.code, statusCode: e.statusCode, message: e.message ?? String(error) };
}

/** Stripe could not be asked (network, timeout, Stripe's own 5xx or rate limit): the answer is unknown. */
export function isUnreachable(error: unknown): boolean {
  const e = error as { type?: string; statusCode?: number };
  return (
    e.type === 'StripeConnectionError' ||
    e.type === 'StripeAPIError' ||
    e.type === 'StripeRateLimitError' ||
    e instanceof BudgetExceeded ||
    (typeof e.statusCode === 'number' && e.statusCode >= 500)
  );
}

class BudgetExceeded extends Error {}

/** A deadline shared by the Stripe calls of one run. */
export class StripeBudget {
  private readonly deadline = Date.now() + STRIPE_LIMITS.budgetMs;

  get leftMs(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  /** Resolves as `call` does, or rejects once the budget is spent (the request is then abandoned). */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const left = this.deadline - Date.now();
    if (left <= 0) throw new BudgetExceeded(`Stripe did not answer within ${STRIPE_LIMITS.budgetMs / 1000}s`);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BudgetExceeded(`Stripe did not answer within ${STRIPE_LIMITS.budgetMs / 1000}s`)), left);
    });
    try {
      return await Promise.race([call(), expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Stripe refused the key itself: the backend could not take payments with it either. */
export function keyRejected(variable: string, error: unknown): KeyRejectedError {
  const { statusCode, message } = stripeErrorSummary(error);
  return new KeyRejectedError(`${variable}: Stripe rejected this key (${statusCode}: ${message})`, { cause: error });
}

export function stripeUnavailable(error: unknown): UnavailableError {
  return new UnavailableError(
    `Stripe could not be reached and STRIPE_GATE_STRIPE_API=required (${stripeErrorSummary(error).message}); ` +
      'retrying later helps, or set STRIPE_GATE_STRIPE_API=auto to compare mode and SaaS only while Stripe is away',
    { cause: error },
  );
}

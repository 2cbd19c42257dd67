import type Stripe from 'stripe';
import { stopIfAborted, stoppedBy, UnavailableError } from '../errors.js';

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
  // A path in the URL (a proxy's prefix) goes before every API path; the SDK itself takes only a host.
  const prefix = url.pathname.replace(/\/+$/, '');
  const base = StripeSdk.createNodeHttpClient();
  const httpClient = prefix
    ? Object.assign(Object.create(base) as typeof base, {
        makeRequest: (host: string, port: string, path: string, ...rest: unknown[]) =>
          (base.makeRequest as (...args: unknown[]) => ReturnType<typeof base.makeRequest>)(host, port, prefix + path, ...rest),
      })
    : undefined;
  const timeout = Math.max(1, Math.min(STRIPE_LIMITS.requestTimeoutMs, budget.leftMs));
  return new StripeSdk(secretKey, {
    host: url.hostname,
    port: Number(url.port) || (protocol === 'http' ? 80 : 443),
    protocol,
    timeout,
    maxNetworkRetries: budget.leftMs >= 2 * STRIPE_LIMITS.requestTimeoutMs ? STRIPE_LIMITS.retries : 0,
    telemetry: false,
    ...(httpClient ? { httpClient } : {}),
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

/** A deadline shared by the Stripe calls of one run, which also end (StoppedError) when the run is stopped. */
export class StripeBudget {
  private readonly deadline = Date.now() + STRIPE_LIMITS.budgetMs;

  constructor(private readonly signal?: AbortSignal) {}

  get leftMs(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  /** Resolves as `call` does, or rejects once the budget is spent (the request is then abandoned). */
  async run<T>(call: () => Promise<T>): Promise<T> {
    stopIfAborted(this.signal);
    const left = this.deadline - Date.now();
    if (left <= 0) throw new BudgetExceeded(`Stripe did not answer within ${STRIPE_LIMITS.budgetMs / 1000}s`);
    let timer: NodeJS.Timeout | undefined;
    let stopped: (() => void) | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BudgetExceeded(`Stripe did not answer within ${STRIPE_LIMITS.budgetMs / 1000}s`)), left);
      const signal = this.signal;
      if (!signal) return;
      stopped = () => reject(stoppedBy(signal));
      signal.addEventListener('abort', stopped, { once: true });
    });
    try {
      return await Promise.race([call(), expired]);
    } finally {
      clearTimeout(timer);
      if (stopped) this.signal?.removeEventListener('abort', stopped);
    }
  }
}

/** What a failed Stripe request means for the gate, in words an operator can act on. */
export interface StripeFailure {
  /**
   * rejected: 401, the key itself (revoked, or a placeholder); forbidden: 403, the key may not make this
   * request (a restricted key); path: 404 for an API route, so STRIPE_GATE_STRIPE_API_URL is not Stripe's API;
   * unavailable: no answer (network, timeout, rate limit, Stripe's 5xx); refused: any other answer.
   */
  kind: 'rejected' | 'forbidden' | 'path' | 'unavailable' | 'refused';
  words: string;
}

export function stripeFailure(error: unknown, path: string): StripeFailure {
  const { statusCode, message } = stripeErrorSummary(error);
  const said = `${statusCode ?? 'no answer'}: ${message}`;
  // Something answered, but not Stripe's API (an HTML page of a proxy or another server): the URL is wrong.
  if (/Invalid JSON received from the Stripe API/i.test(message)) {
    return { kind: 'path', words: `${path} was answered by something other than Stripe's API (${said}): check STRIPE_GATE_STRIPE_API_URL` };
  }
  if (isUnreachable(error)) {
    const why = statusCode === 429 ? 'Stripe is rate-limiting this key' : statusCode ? 'Stripe answered with a server error' : 'Stripe could not be reached';
    return { kind: 'unavailable', words: `${why} (${said})` };
  }
  if (statusCode === 401)
    return { kind: 'rejected', words: `Stripe rejected this key (${said}): a revoked key, or a placeholder such as Hi.Events' example value` };
  if (statusCode === 403) return { kind: 'forbidden', words: `this key may not call ${path} (${said}): a restricted key needs read access to it` };
  if (statusCode === 404) return { kind: 'path', words: `${path} was not found (${said}): STRIPE_GATE_STRIPE_API_URL does not point at Stripe's API` };
  return { kind: 'refused', words: `Stripe refused ${path} (${said})` };
}

export function stripeUnavailable(error: unknown): UnavailableError {
  return new UnavailableError(
    `Stripe could not be reached and STRIPE_GATE_STRIPE_API=required (${stripeErrorSummary(error).message}); ` +
      'retrying later helps, or set STRIPE_GATE_STRIPE_API=auto to compare mode and SaaS only while Stripe is away',
    { cause: error },
  );
}

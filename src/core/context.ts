import type { RunContext } from '../context.js';
import { withClient, type Client } from '../db/connect.js';
import { withGateLock } from '../db/lock.js';
import { stopIfAborted } from '../errors.js';
import { StripeBudget } from '../stripe/api.js';

/** Connects (waiting up to STRIPE_GATE_DB_WAIT_SECONDS, unless the run is stopped), runs `fn`, disconnects. */
export function withDatabase<T>({ config, log, signal }: RunContext, fn: (client: Client) => Promise<T>): Promise<T> {
  return withClient(config.database, config.gate.dbWaitSeconds, log, fn, signal);
}

/** The run's one Stripe budget: the 12 s all its Stripe calls share, ended early when the run is stopped. */
export function stripeBudget({ signal }: RunContext): StripeBudget {
  return new StripeBudget(signal);
}

/**
 * withDatabase, then ONE transaction under the gate's lock (withGateLock) for `fn`. A run stopped meanwhile
 * commits nothing: StoppedError before COMMIT rolls it all back.
 */
export function withGateRun<T>(
  ctx: RunContext,
  fn: (client: Client, answers: Record<string, unknown>) => Promise<T>,
  also?: Record<string, string>,
): Promise<T> {
  return withDatabase(ctx, (client) =>
    withGateLock(
      client,
      ctx.config.gate,
      ctx.log,
      async (answers) => {
        const result = await fn(client, answers);
        stopIfAborted(ctx.signal);
        return result;
      },
      also,
    ),
  );
}

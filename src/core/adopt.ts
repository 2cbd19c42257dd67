import { savepoint } from '../db/transaction.js';
import { compare } from '../decision.js';
import { UsageError } from '../errors.js';
import { configuredIdentity } from '../assess.js';
import { configuredState, type StripeState } from '../marker/state.js';
import { ensureGateSchema } from '../marker/schema.js';
import { DamagedGateTablesError, logRun, readMarker, writeMarker } from '../marker/store.js';
import { describeState } from '../report.js';
import type { StripeMode } from '../stripe/keys.js';
import type { RunContext } from '../context.js';
import { stripeBudget, withGateRun } from './context.js';

export interface AdoptOptions {
  mode: StripeMode;
  saas?: 'true' | 'false';
  force?: boolean;
}

/**
 * What the operator declares: the ids were created under this mode and SaaS setting. The keys and their
 * Stripe accounts are recorded only when the declaration is the configuration itself (made with these keys).
 */
async function declared(ctx: RunContext, options: AdoptOptions): Promise<StripeState> {
  const configured = await configuredIdentity(ctx.config, null, stripeBudget(ctx), ctx.log);
  const saasMode = options.saas === undefined ? ctx.config.saasMode : options.saas === 'true';
  const sameAsConfigured = configured && configured.stripeMode === options.mode && configured.saasMode === saasMode;
  return { stripeMode: options.mode, saasMode, platforms: sameAsConfigured ? configured.platforms : {} };
}

/** Declares what the existing Stripe ids were created under, without changing them (like db:environment:set). */
export async function runAdopt(ctx: RunContext, options: AdoptOptions): Promise<{ state: StripeState; message: string }> {
  const { config } = ctx;
  const state = await declared(ctx, options);
  await withGateRun(ctx, async (client) => {
    // --force is also how an operator replaces a damaged marker.
    const stored = await savepoint(
      client,
      () => readMarker(client, config.gate.schema),
      (error) => {
        if (options.force && error instanceof DamagedGateTablesError) return null;
        throw error;
      },
    );
    if (stored && compare(stored, state) !== 'none' && !options.force) {
      throw new UsageError(
        `a marker already says the stored ids were created under ${describeState(stored)}; ` +
          `declaring ${describeState(state)} instead hides that difference from check. Add --force if you are sure.`,
      );
    }
    await ensureGateSchema(client, config.gate.schema);
    const runId = await logRun(client, config.gate.schema, {
      command: 'adopt',
      decision: 'adopted',
      markerBefore: stored,
      configured: configuredState(config),
      counts: {},
    });
    await writeMarker(client, config.gate.schema, state, runId);
  });
  const message = `Recorded ${describeState(state)} as the configuration the stored Stripe ids were created under; no id was changed. \`stripe-mode-gate check\` now compares against it.`;
  return { state, message };
}

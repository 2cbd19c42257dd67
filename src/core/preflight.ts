import { configuredIdentity } from '../assess.js';
import type { RunContext } from '../context.js';
import { withTransaction } from '../db/transaction.js';
import { configuredState, type Marker, type StripeState } from '../marker/state.js';
import { readMarker } from '../marker/store.js';
import { preflight, type Preflight } from '../preflight.js';
import { stripeBudget, withDatabase } from './context.js';

export interface PreflightResult {
  /** null: no Stripe key is configured, nothing to check. */
  checklist: Preflight | null;
  stored: Marker | null;
  configured: StripeState | null;
}

/**
 * The webhook checklist of the configured environment against the marker, whatever STRIPE_GATE_PREFLIGHT says:
 * reads the marker (no lock, no write) and asks Stripe, inside one budget.
 */
export async function runPreflight(ctx: RunContext): Promise<PreflightResult> {
  const { config, log } = ctx;
  const configured = configuredState(config);
  if (!configured) return { checklist: null, stored: null, configured: null };
  const stored = await withDatabase(ctx, (client) => withTransaction(client, () => readMarker(client, config.gate.schema), { access: 'read only' }));
  const budget = stripeBudget(ctx);
  const identified = (await configuredIdentity(config, stored, budget, log))!;
  return { checklist: await preflight(config, stored, identified, budget, log), stored, configured: identified };
}

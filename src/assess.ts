import type { StaleScope } from './cleanup/plan.js';
import type { Config } from './config/env.js';
import type { Client } from './db/connect.js';
import { compare, decide, staleScope, type Outcome } from './decision.js';
import { readInventory, totalRows, type Inventory, type TargetCount } from './hievents/inventory.js';
import { configuredState, type Marker, type StripeState } from './marker/state.js';
import { readMarker } from './marker/store.js';

export interface Assessment {
  configured: StripeState | null;
  stored: Marker | null;
  /** null when the decision needed none (a match reads the marker only). */
  inventory: Inventory | null;
  scope: StaleScope | null;
  /** The rows the decision's repair touches; empty when nothing is stale. */
  repair: TargetCount[];
  outcome: Outcome;
}

/**
 * Reads the marker and, unless the configuration matches it, what the database holds; then decides.
 * Changes nothing. `inventory: 'always'` counts even on a match (plan, status).
 */
export async function assess(client: Client, config: Config, inventory: 'always' | 'when-needed'): Promise<Assessment> {
  const configured = configuredState(config);
  const stored = await readMarker(client, config.gate.schema);
  const change = configured && stored ? compare(stored, configured) : null;
  const scope = change ? staleScope(change) : null;
  // Without a marker, every id in use counts; with one, only what the change strands.
  const held = inventory === 'always' || change !== 'none' ? await readInventory(client, scope ?? 'everything') : null;
  const repair = held && scope ? held.stale.filter((t) => t.rows > 0) : [];
  const outcome = decide({
    configured,
    stored,
    idsPresent: held && !stored ? totalRows(held.stale) : 0,
    staleRows: totalRows(repair),
    unknownSchema: (held?.unexpected.length ?? 0) > 0,
    policy: config.gate,
  });
  return { configured, stored, inventory: held, scope, repair, outcome };
}

/** The assessment when the backend has no Stripe key: nothing to read, nothing to decide but `skipped`. */
export function skippedAssessment(): Assessment {
  const policy = { onMismatch: 'refuse', onUnknown: 'refuse' } as const;
  const outcome = decide({ configured: null, stored: null, idsPresent: 0, staleRows: 0, unknownSchema: false, policy });
  return { configured: null, stored: null, inventory: null, scope: null, repair: [], outcome };
}

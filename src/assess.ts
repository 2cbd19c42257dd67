import type { StaleScope } from './hievents/catalogue.js';
import type { Config, GateSettings } from './config/env.js';
import type { Client } from './db/connect.js';
import type { RunContext } from './context.js';
import { compare, decide, NOTHING_FOUND, staleScope, unverifiableKeys, type Outcome } from './decision.js';
import { readInventory, totalRows, type Inventory, type TargetCount } from './hievents/inventory.js';
import { sampleStoredIds } from './hievents/sample.js';
import type { Logger } from './logging.js';
import { configuredState, type Marker, type StripeState } from './marker/state.js';
import { readMarker } from './marker/store.js';
import { checkLateWrites, type LateWrites } from './late.js';
import { preflight, type Preflight } from './preflight.js';
import { StripeBudget } from './stripe/api.js';
import { identify } from './stripe/identity.js';
import { probe, PROBE_SAMPLE, type ProbeVerdict } from './stripe/probe.js';

export interface Assessment {
  /** With the Stripe accounts of the keys filled in, where known. */
  configured: StripeState | null;
  /** The marker; or, without one, what a probe of Stripe showed the ids were created under. */
  stored: Marker | null;
  /** What Stripe said of the stored ids when there was no marker and STRIPE_GATE_ON_UNKNOWN=probe. */
  probe: ProbeVerdict | null;
  /** null when the decision needed none (a match reads the marker only). */
  inventory: Inventory | null;
  scope: StaleScope | null;
  /** The rows the decision's repair touches; empty when nothing is stale. */
  repair: TargetCount[];
  policy: Pick<GateSettings, 'onMismatch' | 'onUnknown' | 'settleSeconds' | 'recordSwitches'>;
  outcome: Outcome;
  /** What the decision could not rule out, for the operator (also logged as warnings). */
  warnings: string[];
  /** The marker is younger than STRIPE_GATE_SETTLE_SECONDS. */
  settling: boolean;
  /** What Stripe said of the rows written since the last repair, while they are checked (late.ts). */
  late: LateWrites | null;
  /** The webhook checklist (preflight.ts): run when the configuration differs from the marker, unless off. */
  preflight: Preflight | null;
}

/** The configuration the backend starts with, with each key's Stripe account when it can be known. */
export async function configuredIdentity(config: Config, stored: StripeState | null, budget: StripeBudget, log: Logger): Promise<StripeState | null> {
  const configured = configuredState(config);
  return configured && config.stripe ? identify(configured, stored, config.stripe, config.gate, budget, log) : null;
}

/**
 * Reads the marker and, unless the configuration matches it, what the database holds; then decides.
 * Changes nothing (Stripe is only read). `inventory: 'always'` counts even on a match (plan). Runs inside the
 * caller's transaction (withGateLock, or withTransaction for a run that only reads), which pins search_path.
 * `markerExists`: whether the marker table exists, when the caller asked already (see readMarker).
 */
export async function assess(client: Client, ctx: RunContext, inventory: 'always' | 'when-needed', markerExists?: boolean): Promise<Assessment> {
  const { config, log } = ctx;
  const budget = new StripeBudget(ctx.signal);
  const marker = await readMarker(client, config.gate.schema, markerExists);
  const configured = await configuredIdentity(config, marker, budget, log);
  const firstChange = configured && marker ? compare(marker, configured) : null;
  const unverifiable = configured && marker && marker.stripeMode === configured.stripeMode ? unverifiableKeys(marker, configured) : [];
  const warnings = unverifiable.map(({ platform, storedAccount }) =>
    storedAccount
      ? `the Stripe key of platform ${platform} changed and its account could not be checked (STRIPE_GATE_STRIPE_API=off, or Stripe could not be reached), ` +
        `so a switch away from ${storedAccount}, whose ids would then fail payments, cannot be ruled out: let the gate ask Stripe (STRIPE_GATE_STRIPE_API=auto with Stripe reachable) to settle it`
      : `the Stripe key of platform ${platform} changed, and the marker does not know which account the old key belonged to: a switch to another account cannot be seen. ` +
        'If the stored ids belong to the account of the keys configured now, run `stripe-mode-gate adopt --force` with the same --mode and --saas to record it',
  );
  for (const warning of warnings) log.warn({ platforms: unverifiable.map((u) => u.platform) }, warning);
  const late =
    configured && marker?.unchecked && (firstChange === 'none' || firstChange === 'identity')
      ? await checkLateWrites(client, config, marker, budget, log)
      : null;
  for (const warning of late?.warnings ?? []) {
    warnings.push(warning);
    log.warn({ run: late!.run }, warning);
  }
  // Rows written late with the old configuration: the last switch again, for those rows only.
  const lateBefore = late?.repair ? late.before : null;
  // Without a marker, every id in use counts; with one, only what the change strands.
  const scopeNeeded = (firstChange && staleScope(firstChange)) ?? 'everything';
  const held = late?.repair ?? (inventory === 'always' || firstChange !== 'none' ? await readInventory(client, scopeNeeded) : null);
  const idsPresent = held && !marker ? totalRows(held.stale) : 0;

  let stored = lateBefore ?? marker;
  let verdict: ProbeVerdict | null = null;
  if (configured && !marker && held && idsPresent > 0 && config.gate.onUnknown === 'probe') {
    verdict = await probeStoredIds(client, config, held, budget, log);
    // Stripe says the ids live in the other mode: a switch from there, as if a marker said so.
    if (verdict.verdict === 'other-mode') {
      stored = { stripeMode: verdict.mode, saasMode: configured.saasMode, platforms: {}, recordedAt: new Date().toISOString(), recordedBy: 'probe' };
    }
  }
  const scope = configured && stored ? staleScope(compare(stored, configured)) : null;
  // Late rows are the last switch's, not a new one: the settle time does not hold them back.
  const young = !lateBefore && settling(marker, config.gate.settleSeconds);
  const repair = held && scope ? held.stale.filter((t) => t.rows > 0) : [];
  const outcome = decide({
    configured,
    stored,
    idsPresent,
    staleRows: totalRows(repair),
    unknownSchema: (held?.unknown.length ?? 0) > 0,
    repairBlocked: (held?.obstacles.length ?? 0) > 0,
    probeFound: verdict?.verdict === 'found',
    settling: young,
    policy: config.gate,
  });
  // The rest of a switch, checked on a switch only: a restart with an unchanged configuration asks Stripe nothing.
  const checklist = configured && config.gate.preflight !== 'off' && firstChange !== 'none' ? await preflight(config, marker, configured, budget, log) : null;
  return {
    configured,
    stored,
    probe: verdict,
    inventory: held,
    scope,
    repair,
    policy: config.gate,
    outcome,
    warnings,
    settling: young,
    late,
    preflight: checklist,
  };
}

async function probeStoredIds(client: Client, config: Config, held: Inventory, budget: StripeBudget, log: Logger): Promise<ProbeVerdict> {
  const key = Object.values(config.stripe!.platforms)[0]!;
  const ids = await sampleStoredIds(client, held.present, PROBE_SAMPLE);
  const verdict = await probe(key.secretKey, config.gate, ids, budget, log);
  log.info({ probe: verdict }, 'asked Stripe about the stored ids');
  return verdict;
}

/** Whether the marker is younger than the settle time: recorded by a gate whose backend may still run. */
function settling(marker: Marker | null, settleSeconds: number): boolean {
  return marker?.ageSeconds !== undefined && marker.ageSeconds < settleSeconds;
}

/** The assessment when the backend has no Stripe key: nothing to read, nothing to decide but `skipped`. */
export function skippedAssessment(): Assessment {
  const policy = { onMismatch: 'refuse', onUnknown: 'refuse', settleSeconds: 0, recordSwitches: true } as const;
  const outcome = decide({ configured: null, stored: null, ...NOTHING_FOUND, policy });
  return {
    configured: null,
    stored: null,
    probe: null,
    inventory: null,
    scope: null,
    repair: [],
    policy,
    outcome,
    warnings: [],
    settling: false,
    late: null,
    preflight: null,
  };
}

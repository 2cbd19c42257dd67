import type { Config } from './config/env.js';
import type { Client } from './db/connect.js';
import { sampleWrittenAfter, type WrittenRow } from './hievents/sample.js';
import { checkSchema, readSchemaFacts } from './hievents/schema.js';
import type { Logger } from './logging.js';
import type { Marker, Unchecked } from './marker/state.js';
import type { StripeBudget } from './stripe/api.js';
import { askStripe, type IdAnswer } from './stripe/probe.js';

/** How many rows written after a repair a start asks Stripe about, per table, the oldest writes first. */
export const LATE_SAMPLE = 10;

export type AskedRow = WrittenRow & Pick<IdAnswer, 'story' | 'words'>;

/** What a start found of the writes after the last repair (README, "Deploy flows"). */
export interface LateWrites extends Unchecked {
  /** Rows holding Stripe ids that were written since the repair. */
  written: number;
  asked: AskedRow[];
  /** Rows whose ids Stripe does not know under the configured key: a client with the old keys wrote them. */
  stale: AskedRow[];
  /** Why some of the written rows could not be checked. */
  unverified: string | null;
  /** Nothing is left to check: the settle time has passed and every answer was had. Later starts do not ask. */
  done: boolean;
}

/**
 * A backend or worker that still ran with the old keys, idle while the repair held its locks, may write ids
 * of the old configuration right after the commit. Until the settle time has passed since the repair, each
 * start asks Stripe, with the configured key, about the rows written since (inserted or updated), oldest
 * first. Reads only.
 */
export async function checkLateWrites(client: Client, config: Config, marker: Marker, budget: StripeBudget, log: Logger): Promise<LateWrites> {
  const { run, afterXid } = marker.unchecked!;
  const settled = (marker.ageSeconds ?? 0) >= config.gate.settleSeconds;
  const { usable } = checkSchema(await readSchemaFacts(client));
  const { rows, written } = await sampleWrittenAfter(client, usable, afterXid, LATE_SAMPLE);
  const none = { run, afterXid, written, asked: [], stale: [], unverified: null, done: settled };
  if (rows.length === 0) return none;
  if (config.gate.stripeApi === 'off' || !config.stripe) return { ...none, unverified: 'STRIPE_GATE_STRIPE_API=off' };
  const key = Object.values(config.stripe.platforms)[0]!;
  const lookups = rows.map((r) => (r.kind === 'customer' ? { kind: r.kind, id: r.id, account: r.account } : { kind: r.kind, id: r.id }));
  const said = await askStripe(key.secretKey, config.gate, lookups, budget, log);
  const asked = rows.map((r, i) => ({ ...r, story: said[i].story, words: said[i].words }));
  const stale = asked.filter((a) => a.story === 'test' || a.story === 'live' || a.story === 'missing');
  const unanswered = asked.filter((a) => a.story === 'unreachable' || a.story === 'error');
  const unverified = unanswered.length > 0 ? `Stripe gave no answer for ${unanswered.map((a) => `${a.id} (${a.words})`).join(', ')}` : null;
  log.info({ run, written, asked: asked.length, stale: stale.length }, 'asked Stripe about the rows written since the last repair');
  return { run, afterXid, written, asked, stale, unverified, done: settled && stale.length === 0 && !unanswered.some((a) => a.story === 'unreachable') };
}

/** The warning for writes that could not be checked, or null. */
export function lateWarning(late: LateWrites | null): string | null {
  if (!late?.unverified) return null;
  return (
    `${late.written} rows with Stripe ids were written after run #${late.run} repaired a switch, and ${late.unverified}: ` +
    'whether a backend or worker still running with the old keys wrote some of them cannot be checked. Make sure nothing runs with the old keys'
  );
}

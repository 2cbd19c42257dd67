import type { Config } from './config/env.js';
import type { Client } from './db/connect.js';
import { ident, literal } from './db/sql.js';
import { compare, staleScope } from './decision.js';
import { REPAIRED } from './hievents/catalogue.js';
import { readInventory, totalRows, type Inventory } from './hievents/inventory.js';
import type { RowsOnly, StaleScope } from './hievents/plan.js';
import { sampleWrittenAfter, writtenSince, type WrittenRow } from './hievents/sample.js';
import { checkSchema, readSchemaFacts } from './hievents/schema.js';
import type { Logger } from './logging.js';
import type { Marker, Unchecked } from './marker/state.js';
import { runMarkerBefore } from './marker/store.js';
import type { StripeBudget } from './stripe/api.js';
import { askStripe, type IdAnswer } from './stripe/probe.js';

/** How many rows written after a switch a start asks Stripe about, per table, the oldest writes first. */
export const LATE_SAMPLE = 10;

/** How long a watch goes on while Stripe cannot be asked: then it ends with a warning. */
const GIVE_UP_SECONDS = 24 * 3600;

export type AskedRow = WrittenRow & Pick<IdAnswer, 'story' | 'words'>;

/** What a start found of the writes after the last switch (README, "Deploy flows"). */
export interface LateWrites extends Unchecked {
  /** The configuration the switch left: what a client still running with the old keys writes under. */
  before: Marker | null;
  /** Rows holding Stripe ids that were written since the switch (in the tables asked about). */
  written: number;
  asked: AskedRow[];
  /** Rows whose ids Stripe does not know under the configured keys: a client with the old keys wrote them. */
  stale: AskedRow[];
  /** The late rows the switch strands, as the inventory a repair of them works on; null when there are none. */
  repair: Inventory | null;
  /** What could not be checked, and what was left as it is, for the operator. */
  warnings: string[];
  /** Nothing is left to check: later starts do not look again. */
  done: boolean;
}

/**
 * A backend or worker that still ran with the old keys (idle while a repair held its locks, or simply not
 * stopped) may write ids of the old configuration after the marker moved. Until the settle time has passed,
 * each start looks at the rows written since (inserted or updated). After SaaS mode was turned off, every
 * Connect value written since is stranded by definition. Otherwise Stripe is asked, with every configured key,
 * about the oldest rows written; ids that none of them knows (Stripe's own "no such object", or its hint that
 * the object exists in the other mode) are stale. Reads only.
 */
export async function checkLateWrites(client: Client, config: Config, marker: Marker, budget: StripeBudget, log: Logger): Promise<LateWrites> {
  const { run, afterXid } = marker.unchecked!;
  const age = marker.ageSeconds ?? 0;
  const settled = age >= config.gate.settleSeconds;
  const before = await runMarkerBefore(client, config.gate.schema, run);
  const base = { run, afterXid, before, written: 0, asked: [], stale: [], repair: null, warnings: [], done: settled };
  const switched = before && staleScope(compare(before, marker));
  if (!switched) return base;
  if (switched === 'connect') {
    const repair = await stranded(client, switched, new Map(REPAIRED.map((spec) => [spec.table, writtenSince(afterXid)])));
    return { ...base, repair, done: settled && !repair };
  }
  const { usable } = checkSchema(await readSchemaFacts(client));
  const { rows, written } = await sampleWrittenAfter(client, usable, afterXid, LATE_SAMPLE);
  const unverified = (why: string) => [
    `${written} rows with Stripe ids were written after run #${run} switched the configuration, and ${why}: ` +
      'whether a backend or worker still running with the old keys wrote some of them cannot be checked. Make sure nothing runs with the old keys',
  ];
  if (rows.length === 0) return { ...base, written };
  if (config.gate.stripeApi === 'off' || !config.stripe) return { ...base, written, warnings: unverified('STRIPE_GATE_STRIPE_API=off') };
  const keys = [...new Map(Object.values(config.stripe.platforms).map((k) => [k.fingerprint, k.secretKey])).values()];
  const said = await askEveryKey(keys, config, rows, budget, log);
  const asked = rows.map((r, i) => ({ ...r, story: said[i].story, words: said[i].words }));
  const stale = asked.filter((a) => a.story === 'test' || a.story === 'live' || a.story === 'missing');
  const unanswered = asked.filter((a) => a.story === 'unreachable' || a.story === 'error');
  const notAsked = written - asked.length;
  const why = [
    unanswered.length > 0 ? `Stripe gave no answer for ${unanswered.map((a) => `${a.id} (${a.words})`).join(', ')}` : '',
    settled && notAsked > 0 ? `only the oldest ${asked.length} were asked about` : '',
  ].filter(Boolean);
  const warnings = why.length > 0 ? unverified(why.join('; ')) : [];
  const repair = stale.length > 0 ? await stranded(client, switched, rowsOf(stale)) : null;
  if (stale.length > 0 && !repair) {
    // Stripe did not know them, but the switch does not strand them: they stay, and no later start asks again.
    const named = stale.map((r) => `${r.table} id ${r.row}`).join(', ');
    warnings.push(
      `Stripe does not know the ids of ${named}, written after run #${run}, but the switch it made does not strand them: they were left as they are`,
    );
  }
  const stillAsking = unanswered.some((a) => a.story === 'unreachable') && age < GIVE_UP_SECONDS;
  log.info({ run, written, asked: asked.length, stale: stale.length }, 'asked Stripe about the rows written since the last switch');
  return { ...base, written, asked, stale, repair, warnings, done: settled && !repair && !stillAsking };
}

/** The rows of `only` that the switch strands, as an inventory of them; null when there are none. */
async function stranded(client: Client, scope: StaleScope, only: RowsOnly): Promise<Inventory | null> {
  const inventory = await readInventory(client, scope, only);
  return totalRows(inventory.stale) > 0 ? inventory : null;
}

/**
 * Asks with each key in turn about the ids no earlier key found: found by any key, an id belongs to the
 * configuration (with several platforms, a row may belong to any of them). Stale only when no key knows it.
 */
async function askEveryKey(keys: string[], config: Config, rows: WrittenRow[], budget: StripeBudget, log: Logger): Promise<IdAnswer[]> {
  const answers: (IdAnswer | undefined)[] = rows.map(() => undefined);
  for (const key of keys) {
    const open = rows.flatMap((_, i) => (answers[i]?.story === 'found' ? [] : [i]));
    if (open.length === 0) break;
    const said = await askStripe(
      key,
      config.gate,
      open.map((i) => rows[i]),
      budget,
      log,
    );
    for (const [n, i] of open.entries()) answers[i] = strongest(answers[i], said[n]);
  }
  return answers.map((a) => a!);
}

/** Of two keys' answers about one id: found wins, then the other-mode hint, then no verdict, then missing. */
function strongest(a: IdAnswer | undefined, b: IdAnswer): IdAnswer {
  const rank = (x: IdAnswer) => (x.story === 'found' ? 4 : x.story === 'test' || x.story === 'live' ? 3 : x.story === 'missing' ? 1 : 2);
  return !a || rank(b) > rank(a) ? b : a;
}

/** The stale rows, per table, each by its key and the very id Stripe was asked about (it may change meanwhile). */
function rowsOf(stale: AskedRow[]): RowsOnly {
  const only = new Map<string, string[]>();
  for (const r of stale) only.set(r.table, [...(only.get(r.table) ?? []), `(id = ${literal(r.row)}::bigint AND ${ident(r.column)} = ${literal(r.id)})`]);
  return new Map([...only].map(([table, rows]) => [table, rows.join(' OR ')]));
}

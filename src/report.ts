import type { Assessment } from './assess.js';
import type { ExitCodeValue } from './errors.js';
import { repairedTable } from './hievents/catalogue.js';
import type { TargetCount } from './hievents/inventory.js';
import { displayState, type StripeState } from './marker/state.js';
import type { Preflight } from './preflight.js';

/** The JSON shape of `changes`: rows per table repaired (or to repair) and history rows left. */
export interface Changes {
  scope: Assessment['scope'];
  repair: Record<string, { action: 'delete' | 'reset'; rows: number }>;
  history: Record<string, number>;
}

/** What `check --json` and `plan --json` print about a decision (the fields the README's Commands section promises). */
export interface DecisionReport {
  decision: Assessment['outcome']['decision'];
  exitCode: ExitCodeValue;
  stored: Assessment['stored'];
  configured: Assessment['configured'];
  changes: Changes;
  /** While the writes after the last repair are checked: what Stripe said of them. */
  lateWrites?: { afterRun: string; written: number; asked: number; stale: { table: string; row: string; id: string; stripe: string }[] };
  /** On a switch: the webhook checklist (README, "Preflight"). */
  preflight?: Preflight;
}

export function decisionReport(a: Assessment): DecisionReport {
  const late = a.late && {
    afterRun: a.late.run,
    written: a.late.written,
    asked: a.late.asked.length,
    stale: a.late.stale.map((r) => ({ table: r.table, row: r.row, id: r.id, stripe: r.words })),
  };
  return {
    decision: a.outcome.decision,
    exitCode: a.outcome.exitCode,
    stored: displayState(a.stored),
    configured: displayState(a.configured),
    changes: changesOf(a),
    ...(late ? { lateWrites: late } : {}),
    ...(a.preflight ? { preflight: a.preflight } : {}),
  };
}

const MARK = { pass: 'pass', warn: 'WARN', fail: 'FAIL' } as const;

/** The checklist as a person reads it: a line per item, the fix under each warning and failure. */
export function checklistText(preflight: Preflight): string {
  const lines = [`preflight: ${preflight.failures} failed, ${preflight.warnings} warnings`];
  for (const { platform, items } of preflight.platforms) {
    lines.push(`  platform ${platform}:`);
    for (const item of items) {
      lines.push(`    ${MARK[item.status]}  ${item.check}: ${item.says}`);
      if (item.fix && item.status !== 'pass') lines.push(`          fix: ${item.fix}`);
    }
  }
  return lines.join('\n');
}

/** The failed items, each with its fix, for a refusal's message. */
export function checklistFailures(preflight: Preflight): string[] {
  return preflight.platforms.flatMap(({ platform, items }) =>
    items.filter((i) => i.status === 'fail').map((i) => `${platform} ${i.check}: ${i.says}${i.fix ? `; ${i.fix}` : ''}`),
  );
}

export function changesOf(a: Assessment): Changes {
  return {
    scope: a.scope,
    repair: Object.fromEntries(a.repair.filter((t) => t.rows > 0).map((t) => [t.table, { action: t.action, rows: t.rows }])),
    history: historyLeft(a),
  };
}

/** History rows whose ids came from the old configuration: only when a change stranded anything. */
function historyLeft(a: Assessment): Record<string, number> {
  // A repair of late rows leaves the history as the repair before it found it.
  if (a.scope !== 'everything' || !a.inventory || a.inventory.only) return {};
  return Object.fromEntries(Object.entries(a.inventory.history).filter(([, rows]) => rows > 0));
}

export function describeState(state: StripeState): string {
  const accounts = [...new Set(Object.values(state.platforms).flatMap((p) => (p.accountId ? [p.accountId] : [])))];
  const account = accounts.length > 0 ? ` (Stripe account ${accounts.join(', ')})` : '';
  return `${state.stripeMode} keys${account}, SaaS mode ${state.saasMode ? 'on' : 'off'}`;
}

export function describeRows(targets: TargetCount[]): string {
  return targets
    .filter((t) => t.rows > 0)
    .map((t) => `${t.rows} ${repairedTable(t.table)?.label ?? 'rows'} (${t.table})`)
    .join(', ');
}

function historySentence(a: Assessment): string {
  const history = Object.entries(historyLeft(a));
  if (history.length === 0) return '';
  const rows = history.reduce((sum, [, n]) => sum + n, 0);
  const list = history.map(([table, n]) => `${table} ${n}`).join(', ');
  return ` ${rows} payment history rows (${list}) keep their old ids and are never changed; refunds of those payments will fail with the new keys.`;
}

function unexpectedSentence(a: Assessment): string {
  const { unknown = [], obstacles = [] } = a.inventory ?? {};
  const sentences = [];
  if (unknown.length > 0) {
    sentences.push(
      ` The database also has tables of a shape no Hi.Events release has (${unknown.join('; ')}): the gate repairs nothing, and records no new install on its own, until they match a Hi.Events schema it knows.`,
    );
  }
  if (obstacles.length > 0) {
    sentences.push(
      ` The gate repairs only ordinary Hi.Events tables that nothing else acts on, and here ${obstacles.join('; ')}: repair those rows by hand, or remove what is named.`,
    );
  }
  return sentences.join('');
}

/** In SaaS mode, a repair of connected accounts means organizers connect Stripe again. */
function reconnectSentence(a: Assessment): string {
  const connections = a.repair.some((t) => t.rows > 0 && repairedTable(t.table)?.reconnect);
  return a.configured?.saasMode && connections ? ' Organizers must connect Stripe again after the repair.' : '';
}

/** A second configuration right after the marker moved to the first: both would run at once. */
function settlingRefusal(a: Assessment): string {
  const stored = a.stored!;
  const ago = Math.round(stored.ageSeconds ?? 0);
  return (
    `Refused: the marker was set to ${describeState(stored)} only ${ago} s ago (by stripe-mode-gate ${stored.recordedBy}), and a backend ` +
    `started with it may still be running; this one is configured with ${describeState(a.configured!)}. Two configurations at once ` +
    '(replicas or workers with different keys, a rollout under way) would mix Stripe ids of both, and the marker could describe only one. ' +
    `Give every backend and worker the same keys and APP_SAAS_MODE_ENABLED; once nothing runs with ${describeState(stored)} any more, ` +
    `start again after STRIPE_GATE_SETTLE_SECONDS (${a.policy.settleSeconds} s) have passed since the marker changed, or set it lower. Nothing was changed.`
  );
}

/** One paragraph an operator can act on: what is stored, what is configured, what happens, what to do. */
export function explain(a: Assessment): string {
  return [explainDecision(a), ...a.warnings.map((w) => `Warning: ${w}.`)].join(' ');
}

/** Rows a client with the old keys wrote after the last switch: repaired, or refused. */
function lateExplanation(a: Assessment): string {
  const late = a.late!;
  const said = late.stale.map((r) => `${r.table} id ${r.row}, ${r.id}: ${r.words}`).join('; ');
  const rows = said
    ? `ids that Stripe does not know under the configured keys (${said})`
    : `Connect values, which SaaS mode off strands (${describeRows(a.repair)})`;
  const what =
    `after run #${late.run} switched from ${describeState(a.stored!)} to ${describeState(a.configured!)}, ` +
    `rows were written with ${rows}: a backend or queue worker still running with the old configuration wrote them.`;
  const stop = 'Stop every backend and worker that runs with the old keys (docker compose stop; or scale the old Deployments to 0).';
  if (a.outcome.decision === 'cleaned') {
    return `${what[0].toUpperCase()}${what.slice(1)} Repaired those rows: ${describeRows(a.repair)}; every removed value is archived (\`stripe-mode-gate restore\` puts them back). ${stop}`;
  }
  const repair =
    a.policy.onMismatch === 'clean'
      ? 'STRIPE_GATE_ON_MISMATCH=clean is set, but the gate repairs only a schema it knows, in tables it may write.'
      : "Then start once with STRIPE_GATE_ON_MISMATCH=clean: the gate removes exactly those rows' values and archives them.";
  return `Refused: ${what} Payments for them would fail. ${stop} ${repair}${unexpectedSentence(a)} Nothing was changed.`;
}

function explainDecision(a: Assessment): string {
  const { decision, change } = a.outcome;
  if (a.late && a.inventory?.only && (decision === 'cleaned' || decision === 'refused-mismatch')) return lateExplanation(a);
  const stored = a.stored && describeState(a.stored);
  const configured = a.configured && describeState(a.configured);
  const held = a.inventory ? describeRows(a.inventory.stale) : '';
  // Without a marker, a probe of Stripe may have shown where the ids came from.
  const origin =
    a.probe?.verdict === 'other-mode' ? ` (there is no marker, but Stripe says the stored ids exist in ${a.probe.mode} mode: ${a.probe.evidence})` : '';
  const probeFailed = a.probe?.verdict === 'inconclusive' ? ` Asking Stripe (STRIPE_GATE_ON_UNKNOWN=probe) could not tell: ${a.probe.reason}.` : '';
  switch (decision) {
    case 'skipped':
      return 'No Stripe secret key is configured (STRIPE_SECRET_KEY and the CA/IE keys are empty): nothing to check, the backend may start.';
    case 'match':
      return `The stored Stripe ids were created under ${stored}, which is what the backend is configured with. Nothing to do.`;
    case 'recorded':
      return `The database holds no Stripe ids yet. Recorded ${configured} as the configuration they will be created under.`;
    case 'adopted':
      return a.probe?.verdict === 'found'
        ? `The database holds Stripe ids (${held}) with no record of their origin; Stripe found every one of the ${a.probe.checked} sampled ids with the configured key, so they were created under ${configured}, which is now recorded. Nothing else was changed.`
        : `The database holds Stripe ids (${held}) with no record of their origin; STRIPE_GATE_ON_UNKNOWN=adopt declared them created under ${configured}, which is now recorded. Nothing else was changed.`;
    case 'updated':
      if (change === 'saas-enabled')
        return `SaaS mode was turned on. The stored ids (created under ${stored}) stay valid in the platform account. Recorded ${configured}.`;
      if (change === 'identity')
        return `The Stripe key is new to the marker but belongs to the same account (${configured}); no stored id depends on the key itself. Recorded it.`;
      return `The configuration changed from ${stored} to ${configured}, but no stored id depends on what changed. Recorded the new configuration.`;
    case 'cleaned':
      return `The configuration changed from ${stored}${origin} to ${configured}. Repaired the stale ids: ${describeRows(a.repair)}; every removed value is archived (\`stripe-mode-gate restore\` puts them back).${historySentence(a)}${reconnectSentence(a)}`;
    case 'refused-mismatch': {
      if (a.settling) return settlingRefusal(a);
      if (!a.policy.recordSwitches && a.repair.length === 0) {
        return (
          `Refused: the stored Stripe ids were created under ${stored}, and this container is configured with ${configured}. ` +
          'Nothing is stranded yet, but a switch is recorded only by the init gate (`docker compose up` runs `stripe-mode-gate check`): ' +
          'a container restarted by Docker does not switch the marker by itself. Nothing was changed.'
        );
      }
      const repair =
        a.policy.onMismatch === 'clean'
          ? 'STRIPE_GATE_ON_MISMATCH=clean is set, but the gate repairs only a schema it knows, in tables it may write.'
          : 'To repair, set STRIPE_GATE_ON_MISMATCH=clean: the gate then removes exactly those ids in one transaction and archives every removed value (`stripe-mode-gate restore` puts them back).';
      return (
        `Refused: the Stripe ids in this database were created under ${stored}${origin}, but the backend is configured with ${configured}. ` +
        `Started like this, payments would fail ("No such customer", or a Connect account error) for: ${describeRows(a.repair) || 'ids the gate could not count'}. ${repair} ` +
        `Or configure ${a.stored!.stripeMode} keys${a.stored!.saasMode ? ' with SaaS mode on' : ''} again. \`stripe-mode-gate plan\` lists every table.${unexpectedSentence(a)}${historySentence(a)}${reconnectSentence(a)} Nothing was changed.`
      );
    }
    case 'refused-unknown': {
      const c = a.configured!;
      return (
        `Refused: the database holds Stripe ids (${held || 'none that the gate could count'}) but no record of the Stripe configuration that created them ` +
        `(the first run of the gate on an existing install, or a database restored from elsewhere).${probeFailed} ` +
        `If they were created with the keys configured now (${configured}), run \`stripe-mode-gate adopt --mode ${c.stripeMode} --saas ${c.saasMode}\` once, or set STRIPE_GATE_ON_UNKNOWN=adopt. ` +
        'If they came from other keys, adopt that mode instead: the gate then treats this start as a switch (repair with STRIPE_GATE_ON_MISMATCH=clean).' +
        `${unexpectedSentence(a)} Nothing was changed.`
      );
    }
  }
}

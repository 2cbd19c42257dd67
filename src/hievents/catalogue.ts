/**
 * Everything the gate knows about the Stripe data of Hi.Events, as data. Inventory, plan, repair, restore,
 * probe sampling and the wording of reports are all derived from these lists; no other module names a
 * Hi.Events table or column. docs/hievents.md tells the story behind each entry.
 *
 * To support a new Hi.Events column on a known table, add one line to its `columns` (with `since`); a new
 * table is one more entry. Which release has what is never assumed: the gate reads the columns that exist.
 */

/** Hi.Events keeps its tables in public (config/database.php: search_path 'public'). */
export const HIEVENTS_SCHEMA = 'public';

/**
 * Which stored ids a change of configuration strands:
 * - everything: another Stripe mode or account; every customer, connected account and Connect column.
 * - connect: SaaS mode on -> off; connected accounts and the customers inside them.
 */
export type StaleScope = 'everything' | 'connect';

/** Laravel's soft-delete column: the backend ignores rows where it is set. */
export const SOFT_DELETE = 'deleted_at';

/** Tells whether a column of the table exists in the database at hand. */
export type Has = (column: string) => boolean;

const ID = ['bigint', 'integer'];
const TEXT = ['character varying', 'text'];
const BOOL = ['boolean'];
const TIMESTAMP = ['timestamp without time zone', 'timestamp with time zone'];

export interface ColumnSpec {
  /** information_schema data_type values the gate accepts. */
  types: readonly string[];
  /** The release that added it: absent before, so every query adapts to its absence. No `since`: required. */
  since?: string;
  /** The Stripe object it holds, by id prefix (for readers and messages). */
  holds?: string;
}

/** A table whose Stripe ids a switch strands, and how a repair makes it consistent again. */
export interface RepairedTable {
  table: string;
  /** "N Stripe customers (stripe_customers)". */
  label: string;
  /** How the backend uses it, and how a stale row fails. */
  why: string;
  /** The columns a repair and a restore rely on. Every other column is carried along untouched. */
  columns: Record<string, ColumnSpec>;
  /**
   * delete: the row cannot stay (its id is NOT NULL or UNIQUE, so nulling it in place is wrong);
   * reset: these columns go back to their Hi.Events defaults (SQL literals); a restore of a reset row is
   * refused when the row is gone, or when its columns hold values again (`gone`, `again` say so).
   */
  repair: { action: 'delete' } | { action: 'reset'; defaults: Record<string, 'NULL' | 'false'>; gone: string; again: string };
  /** The rows each change strands, as SQL over the table's own columns; null: it strands none. */
  strands: Record<StaleScope, (has: Has) => string | null>;
  /**
   * Restore of a deleted row: it collides with a current row `c` when this condition on `c` and the
   * archived row `r` holds. (A reset row collides when its account is gone or has Connect values again.)
   */
  collisions: { on: (has: Has) => string; reason: string }[];
  /** In SaaS mode, organizers must connect Stripe again once this table was repaired. */
  reconnect: boolean;
  /** What a probe asks Stripe about: the id column, and the column naming the connected account it lives in. */
  sample?: { kind: 'customer' | 'account'; id: string; account?: string };
  /** The backend reads this data from that table instead when it exists (v1.2 moved Connect there). */
  supersededBy?: string;
}

const everyRow = () => 'true';
/** Rows where any reset column differs from its default. */
const notDefault = (defaults: Record<string, string>) => (has: Has) => {
  const set = Object.entries(defaults)
    .filter(([column]) => has(column))
    .map(([column, value]) => (value === 'false' ? `"${column}"` : `"${column}" IS NOT NULL`));
  return set.length > 0 ? set.join(' OR ') : null;
};
const sameId = { on: () => 'c.id = r.id', reason: 'a row with the same id exists' };

const CONNECT_DEFAULTS = {
  stripe_account_id: 'NULL',
  stripe_connect_account_type: 'NULL',
  stripe_connect_setup_complete: 'false',
} as const;

/** Platform rows: one connected account per Hi.Events account (v1.2) or organizer (newest main). */
function platformTable(table: string, owner: string, label: string, since: string): RepairedTable {
  return {
    table,
    label,
    why:
      `The newest completed row names the connected account the backend uses in SaaS and non-SaaS mode ` +
      `(payments, Stripe.js, onboarding); an acct_ of the old mode or account breaks checkout. Present since ${since}.`,
    columns: {
      id: { types: ID },
      [owner]: { types: ID },
      stripe_account_id: { types: TEXT, holds: 'acct_' },
      [SOFT_DELETE]: { types: TIMESTAMP },
    },
    repair: { action: 'delete' },
    strands: { everything: everyRow, connect: everyRow },
    collisions: [
      sameId,
      { on: () => `c.${owner} = r.${owner} AND c.deleted_at IS NULL`, reason: `the ${owner.replace('_id', '')} has connected Stripe since` },
    ],
    reconnect: true,
  };
}

/** The tables a repair changes, in the order it changes them. */
export const REPAIRED: readonly RepairedTable[] = [
  {
    table: 'stripe_customers',
    label: 'Stripe customers',
    why:
      'The backend looks a customer up by email and connected account and reuses the stored cus_ id: a stale one ' +
      'fails the payment with "No such customer". Before v1.0 the lookup was by email alone.',
    columns: {
      id: { types: ID },
      email: { types: TEXT },
      stripe_customer_id: { types: TEXT, holds: 'cus_' },
      stripe_account_id: { types: TEXT, since: 'v1.0', holds: 'acct_' },
      [SOFT_DELETE]: { types: TIMESTAMP },
    },
    repair: { action: 'delete' },
    strands: {
      everything: everyRow,
      // Before v1.0 (no stripe_account_id) customers were found by email alone: every row is stale.
      connect: (has) => (has('stripe_account_id') ? 'stripe_account_id IS NOT NULL' : 'true'),
    },
    collisions: [
      sameId,
      {
        // Two rows for one email and account would make the backend's lookup ambiguous.
        on: (has) =>
          `c.email = r.email AND c.deleted_at IS NULL${has('stripe_account_id') ? ' AND c.stripe_account_id IS NOT DISTINCT FROM r.stripe_account_id' : ''}`,
        reason: 'a customer with the same email was created since',
      },
    ],
    reconnect: false,
    sample: { kind: 'customer', id: 'stripe_customer_id', account: 'stripe_account_id' },
  },
  {
    ...platformTable('account_stripe_platforms', 'account_id', 'connected Stripe accounts', 'v1.2'),
    collisions: [
      sameId,
      { on: () => 'c.stripe_account_id = r.stripe_account_id', reason: 'the same Stripe account is connected again' },
      { on: () => 'c.account_id = r.account_id AND c.deleted_at IS NULL', reason: 'the account has connected Stripe since' },
    ],
    sample: { kind: 'account', id: 'stripe_account_id' },
  },
  // Backfilled from account_stripe_platforms, one row per organizer: its acct_ ids repeat those, so it is not sampled.
  platformTable('organizer_stripe_platforms', 'organizer_id', 'organizer Stripe connections', 'newest main (2026-05)'),
  {
    table: 'accounts',
    label: 'accounts with Connect values',
    why:
      'Before v1.2 the backend read the connected account from here; the v1.2 migration copies it into ' +
      'account_stripe_platforms, so a stale value comes back on upgrade. The account row itself stays.',
    columns: {
      id: { types: ID },
      stripe_account_id: { types: TEXT, holds: 'acct_' },
      stripe_connect_setup_complete: { types: BOOL },
      stripe_connect_account_type: { types: TEXT, since: 'v1.0' },
    },
    repair: { action: 'reset', defaults: CONNECT_DEFAULTS, gone: 'the account no longer exists', again: 'the account has Connect values again' },
    strands: { everything: notDefault(CONNECT_DEFAULTS), connect: notDefault(CONNECT_DEFAULTS) },
    collisions: [],
    reconnect: true,
    sample: { kind: 'account', id: 'stripe_account_id' },
    supersededBy: 'account_stripe_platforms',
  },
];

/** A table of past payments: its ids stay as they are (refunds of those payments fail under new keys). */
export interface HistoryTable {
  table: string;
  /** Id columns by Stripe prefix; a row counts when any of those present is set. */
  ids: Record<string, string>;
  /** Only rows of Stripe, when the table also records other payment providers. */
  only?: { column: string; equals: string };
}

export const HISTORY: readonly HistoryTable[] = [
  {
    table: 'stripe_payments',
    ids: {
      payment_intent_id: 'pi_',
      charge_id: 'ch_',
      payment_method_id: 'pm_',
      connected_account_id: 'acct_',
      payout_id: 'po_', // v1.5
      balance_transaction_id: 'txn_', // v1.5
    },
  },
  { table: 'stripe_payouts', ids: { payout_id: 'po_' } }, // v1.5
  { table: 'order_refunds', ids: { refund_id: 're_' }, only: { column: 'payment_provider', equals: 'STRIPE' } }, // v1.0
  { table: 'order_payment_platform_fees', ids: { transaction_id: 'txn_', charge_id: 'ch_' } }, // v1.4; charge_id v1.5
];

/**
 * The schema shapes seen in Hi.Events releases (Stripe tables only), newest first, each told apart by the
 * first table or column it added. Informational: behaviour follows the columns, never the shape.
 */
export const SHAPES: readonly { shape: string; releases: string; mark: [table: string, column?: string] }[] = [
  { shape: 'F', releases: 'main from 2026-05', mark: ['organizer_stripe_platforms'] },
  { shape: 'E', releases: 'v1.5.0-beta.1 .. v1.8', mark: ['stripe_payouts'] },
  { shape: 'D', releases: 'v1.4.0-beta.1', mark: ['order_payment_platform_fees'] },
  { shape: 'C', releases: 'v1.2.0-beta.1 .. v1.3', mark: ['account_stripe_platforms'] },
  { shape: 'B', releases: 'v1.0.0-alpha.1 .. v1.1', mark: ['stripe_customers', 'stripe_account_id'] },
  { shape: 'A', releases: 'v0.8.0-beta.2 .. beta.9', mark: ['stripe_customers'] },
];

/** Every table the gate reads. */
export const KNOWN_TABLES: readonly string[] = [...REPAIRED.map((t) => t.table), ...HISTORY.map((t) => t.table)];

export function repairedTable(table: string): RepairedTable | undefined {
  return REPAIRED.find((t) => t.table === table);
}

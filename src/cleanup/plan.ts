import { ident } from '../db/sql.js';
import type { PresentSchema } from '../hievents/schema.js';

/**
 * Which stored ids a change of configuration strands (HIEVENTS.md, "What repairs a switch"):
 * - everything: another Stripe mode or account; every customer, connected account and Connect column.
 * - connect: SaaS mode on -> off; connected accounts and the customers inside them.
 */
export type StaleScope = 'everything' | 'connect';

/** A set of rows in one table, as constant SQL over the table's own columns. */
export interface RowSet {
  table: string;
  where: string;
}

export interface RepairTarget extends RowSet {
  /** delete: the row cannot stay (NOT NULL / UNIQUE ids); reset: the Connect columns go back to defaults. */
  action: 'delete' | 'reset';
  /** For reset: the columns set, each to its default (NULL, or false for the setup flag). */
  columns: string[];
}

const PLATFORM_TABLES = ['account_stripe_platforms', 'organizer_stripe_platforms'];
export const ACCOUNT_CONNECT_COLUMNS = ['stripe_account_id', 'stripe_connect_account_type', 'stripe_connect_setup_complete'];

/** The rows a repair of `scope` touches, in the order it touches them, for the tables that exist. */
export function repairTargets(scope: StaleScope, present: PresentSchema): RepairTarget[] {
  const targets: RepairTarget[] = [];
  const customers = present.get('stripe_customers');
  if (customers) {
    // Before v1.0 customers had no stripe_account_id and were looked up by email alone: all are stale.
    const where = scope === 'connect' && customers.has('stripe_account_id') ? 'stripe_account_id IS NOT NULL' : 'true';
    targets.push({ table: 'stripe_customers', action: 'delete', where, columns: [] });
  }
  for (const table of PLATFORM_TABLES) {
    if (present.has(table)) targets.push({ table, action: 'delete', where: 'true', columns: [] });
  }
  const accounts = present.get('accounts');
  const columns = ACCOUNT_CONNECT_COLUMNS.filter((column) => accounts?.has(column));
  if (columns.length > 0) {
    const where = columns
      .map((c) => (c === 'stripe_connect_setup_complete' ? ident(c) : `${ident(c)} IS NOT NULL`))
      .join(' OR ');
    targets.push({ table: 'accounts', action: 'reset', where, columns });
  }
  return targets;
}

/** The value a reset column gets: the column's own default in Hi.Events. */
export function resetValue(column: string): string {
  return column === 'stripe_connect_setup_complete' ? 'false' : 'NULL';
}

/** Rows of past payments that carry Stripe ids: reported, never changed. */
export function historySets(present: PresentSchema): RowSet[] {
  const sets: RowSet[] = [];
  const add = (table: string, column: string, where: string) => {
    if (present.get(table)?.has(column)) sets.push({ table, where });
  };
  add('stripe_payments', 'payment_intent_id', 'payment_intent_id IS NOT NULL');
  add('stripe_payouts', 'payout_id', 'payout_id IS NOT NULL');
  add('order_refunds', 'payment_provider', "payment_provider = 'STRIPE'");
  add('order_payment_platform_fees', 'transaction_id', 'transaction_id IS NOT NULL OR charge_id IS NOT NULL');
  return sets;
}

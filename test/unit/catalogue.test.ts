// What the catalogue derives for each schema shape, without a database: the rows a repair touches, the history
// counted, the shape named. The integration tests run the same on real schemas of every shape.
import { describe, expect, it } from 'vitest';
import { HISTORY, REPAIRED, SHAPES } from '../../src/hievents/catalogue.js';
import { historySets, repairTargets } from '../../src/hievents/plan.js';
import { detectShape, type PresentSchema } from '../../src/hievents/schema.js';

const V = 'character varying';
/** The Stripe-related columns each shape has (docs/hievents.md, "Shapes seen in releases"), typed as PostgreSQL names them. */
function shape(name: 'A' | 'B' | 'C' | 'D' | 'E' | 'F'): PresentSchema {
  const at = (s: string) => 'ABCDEF'.indexOf(name) >= 'ABCDEF'.indexOf(s);
  const table = (columns: Record<string, string>) => new Map(Object.entries(columns));
  const present = new Map<string, Map<string, string>>();
  const ts = 'timestamp without time zone';
  present.set(
    'accounts',
    table({ id: 'bigint', stripe_account_id: V, stripe_connect_setup_complete: 'boolean', ...(at('B') ? { stripe_connect_account_type: V } : {}) }),
  );
  present.set('stripe_customers', table({ id: 'bigint', email: V, stripe_customer_id: V, deleted_at: ts, ...(at('B') ? { stripe_account_id: V } : {}) }));
  present.set('stripe_payments', table({ id: 'bigint', payment_intent_id: V, charge_id: V, ...(at('E') ? { payout_id: V } : {}) }));
  if (at('B')) present.set('order_refunds', table({ id: 'integer', refund_id: V, payment_provider: V }));
  if (at('C')) present.set('account_stripe_platforms', table({ id: 'bigint', account_id: 'bigint', stripe_account_id: V, deleted_at: ts }));
  if (at('D')) present.set('order_payment_platform_fees', table({ id: 'bigint', transaction_id: V, ...(at('E') ? { charge_id: V } : {}) }));
  if (at('E')) present.set('stripe_payouts', table({ id: 'bigint', payout_id: V }));
  if (at('F')) present.set('organizer_stripe_platforms', table({ id: 'bigint', organizer_id: 'bigint', stripe_account_id: V, deleted_at: ts }));
  return present;
}

describe('the catalogue, shape by shape', () => {
  const cases = [
    ['A', ['stripe_customers', 'accounts'], 'true'],
    ['B', ['stripe_customers', 'accounts'], 'stripe_account_id IS NOT NULL'],
    ['C', ['stripe_customers', 'account_stripe_platforms', 'accounts'], 'stripe_account_id IS NOT NULL'],
    ['D', ['stripe_customers', 'account_stripe_platforms', 'accounts'], 'stripe_account_id IS NOT NULL'],
    ['E', ['stripe_customers', 'account_stripe_platforms', 'accounts'], 'stripe_account_id IS NOT NULL'],
    ['F', ['stripe_customers', 'account_stripe_platforms', 'organizer_stripe_platforms', 'accounts'], 'stripe_account_id IS NOT NULL'],
  ] as const;

  it.each(cases)('shape %s: a switch repairs %j; SaaS off strands customers where %s', (name, tables, connectCustomers) => {
    const present = shape(name);
    expect(detectShape(present)?.shape).toBe(name);
    expect(repairTargets('everything', present).map((t) => t.table)).toEqual(tables);
    const connect = repairTargets('connect', present);
    expect(connect.find((t) => t.table === 'stripe_customers')?.where).toBe(connectCustomers);
    const accounts = connect.find((t) => t.table === 'accounts')!;
    expect(accounts.action).toBe('reset');
    // A reset sets only the Connect columns the shape has (the account type arrived in v1.0).
    expect(Object.keys(accounts.defaults).sort()).toEqual(
      ['stripe_account_id', 'stripe_connect_setup_complete', ...(name === 'A' ? [] : ['stripe_connect_account_type'])].sort(),
    );
  });

  it('counts history only over the id columns a shape has (v1.4 fees have no charge_id)', () => {
    const fees = (name: 'D' | 'E') => historySets(shape(name)).find((h) => h.table === 'order_payment_platform_fees')!.where;
    expect(fees('D')).toBe('("transaction_id" IS NOT NULL)');
    expect(fees('E')).toBe('("transaction_id" IS NOT NULL OR "charge_id" IS NOT NULL)');
    expect(historySets(shape('A')).map((h) => h.table)).toEqual(['stripe_payments']);
    expect(historySets(shape('B')).find((h) => h.table === 'order_refunds')!.where).toBe(`("refund_id" IS NOT NULL) AND "payment_provider"::text = 'STRIPE'`);
  });

  it('names no shape before the backend migrated', () => {
    expect(detectShape(new Map())).toBeNull();
  });

  it('is consistent: every repaired table has a required id, reset defaults name known columns, shapes name known tables', () => {
    for (const spec of REPAIRED) {
      expect(spec.columns.id?.since, spec.table).toBeUndefined();
      if (spec.repair.action === 'reset') for (const column of Object.keys(spec.repair.defaults)) expect(spec.columns[column], column).toBeDefined();
      if (spec.supersededBy) expect(REPAIRED.map((t) => t.table)).toContain(spec.supersededBy);
    }
    const known = [...REPAIRED.map((t) => t.table), ...HISTORY.map((t) => t.table)];
    for (const { mark } of SHAPES) expect(known).toContain(mark[0]);
  });
});

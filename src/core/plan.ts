import { assess } from '../assess.js';
import { withTransaction } from '../db/transaction.js';
import { schemaProblems } from '../hievents/inventory.js';
import { decisionReport, type DecisionReport } from '../report.js';
import type { RunContext } from '../context.js';
import { withDatabase } from './context.js';

export interface PlanResult extends DecisionReport {
  /** Tables of a shape no Hi.Events release has, and why a table with stale rows may not be repaired. */
  unexpected: string[];
}

/** What `check` would do now, with the rows it would touch; reads only, takes no lock. */
export async function runPlan(ctx: RunContext): Promise<PlanResult> {
  return withDatabase(ctx, async (client) => {
    const a = await withTransaction(client, () => assess(client, ctx, 'always'), { access: 'read only' });
    return { ...decisionReport(a), unexpected: schemaProblems(a.inventory) };
  });
}

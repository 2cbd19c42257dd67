import { runWatch } from '../docker/watch.js';
import type { CommandOutcome, Context } from './context.js';

/** The sidecar runs until its signal aborts (SIGTERM from docker stop, or SIGINT), then exits 0. */
export async function watchCommand(ctx: Context): Promise<CommandOutcome> {
  await runWatch(ctx, ctx.signal ?? new AbortController().signal);
  ctx.log.info('watch stopped');
  return { exitCode: 0 };
}

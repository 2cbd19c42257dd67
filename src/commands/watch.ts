import { runWatch } from '../docker/watch.js';
import type { CommandOutcome, Context } from './context.js';

/** The sidecar runs until SIGTERM (docker stop) or SIGINT, then exits 0. */
export async function watchCommand(ctx: Context): Promise<CommandOutcome> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGTERM', abort);
  process.once('SIGINT', abort);
  try {
    await runWatch(ctx, controller.signal);
  } finally {
    process.off('SIGTERM', abort);
    process.off('SIGINT', abort);
  }
  ctx.log.info('watch stopped');
  return { exitCode: 0 };
}

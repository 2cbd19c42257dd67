import type { Config } from './config/env.js';
import type { Logger } from './logging.js';

/**
 * What every run of the core needs: the configuration it works for, where it logs, and the signal that stops
 * it (SIGTERM, SIGINT, the watcher stopping). A run stopped that way ends at its next wait, and before it
 * commits anything, with StoppedError.
 */
export interface RunContext {
  config: Config;
  log: Logger;
  signal?: AbortSignal;
}

import type { Config } from '../config/env.js';
import type { Logger } from '../logging.js';

/** What every run of the core needs: the configuration it works for, and where it logs. */
export interface RunContext {
  config: Config;
  log: Logger;
}

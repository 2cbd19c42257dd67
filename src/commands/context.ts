import type { Config } from '../config/env.js';
import type { Logger } from '../logging.js';
import type { ExitCodeValue } from '../errors.js';

/** What every command gets from the CLI: parsed configuration, a logger, and stdout for results. */
export interface Context {
  config: Config;
  log: Logger;
  print: (text: string) => void;
}

/** What every command gives back: its exit code and, for a refusal, the reason for the termination log. */
export interface CommandOutcome {
  exitCode: ExitCodeValue;
  reason?: string;
}

import type { Config } from '../config/env.js';
import type { Logger } from '../logging.js';
import type { ExitCodeValue } from '../errors.js';

/** What every command gets from the CLI: parsed configuration, a logger, and stdout for results. */
export interface Context {
  config: Config;
  log: Logger;
  print: (text: string) => void;
}

/**
 * What every command gives back: its exit code; for a refusal, the reason for the termination log; and what
 * it has to say: one message, the text a person reads, and the fields of its --json document (the runner
 * prints one or the other, the JSON inside the envelope every command shares: command, exitCode, message).
 */
export interface CommandOutcome {
  exitCode: ExitCodeValue;
  reason?: string;
  output?: { message: string; text?: string; json?: object };
}

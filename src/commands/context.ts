import type { RunContext } from '../context.js';
import type { ExitCodeValue } from '../errors.js';

/** What every command gets from the CLI: the parsed configuration and a logger (results go back as values). */
export type Context = RunContext;

/**
 * What every command gives back: its exit code; for a refusal, the reason for the termination log; and what
 * it has to say: one message, the text a person reads, and the fields of its --json document (the runner
 * prints one or the other, the JSON inside the envelope every command shares: command, exitCode, message;
 * and it writes the final log line of every run).
 */
export interface CommandOutcome {
  exitCode: ExitCodeValue;
  reason?: string;
  /** `log`: the fields of the run's final log line, which the runner writes with `message`. */
  output?: { message: string; text?: string; json?: object; log?: object };
}

/** Exit codes (sysexits.h names), as the README's exit code table lists them. */
export const ExitCode = {
  ok: 0,
  /** `health` only: Docker's HEALTHCHECK takes 1 for unhealthy. */
  unhealthy: 1,
  usage: 64,
  refusedMismatch: 65,
  refusedUnknown: 66,
  unavailable: 69,
  internal: 70,
  lockTimeout: 75,
  config: 78,
  /** Stopped by SIGINT or SIGTERM before the run ended (128 + the signal's number). */
  interrupted: 130,
  terminated: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the gate expects and explains; its message is meant for the operator. */
export class GateError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class UsageError extends GateError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/**
 * Exit 78, the one way: the settings are wrong (a variable, a grant, TLS, the socket's permissions, a key
 * Stripe refuses); waiting will not change it.
 */
export class ConfigurationError extends GateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.config, options);
  }
}

/** Every invalid setting at once; `problems` name the variable, never its value when secret. */
export class ConfigError extends ConfigurationError {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/** STRIPE_GATE_PREFLIGHT=refuse: the webhook checklist of a switch failed; nothing was changed. */
export class PreflightRefusedError extends ConfigError {
  constructor(problems: string[]) {
    super(problems);
    this.message = `Refused (STRIPE_GATE_PREFLIGHT=refuse): the Stripe side of this switch is not ready, so nothing was changed: ${problems.join('; ')}`;
  }
}

export class UnavailableError extends GateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.unavailable, options);
  }
}

export class LockTimeoutError extends GateError {
  constructor(message: string) {
    super(message, ExitCode.lockTimeout);
  }
}

/** A refusal outside `check` (restore): the state does not allow it; a person decides. */
export class RefusedError extends GateError {
  constructor(message: string) {
    super(message, ExitCode.refusedMismatch);
  }
}

/** Stripe rejected a configured key: the configuration's own fault (78), whatever the database says. */
export class KeyRejectedError extends ConfigurationError {}

/**
 * The run was stopped (SIGTERM, SIGINT: the abort signal of its RunContext) before it ended. Thrown at the
 * next wait, or before anything is committed; the transaction then rolls back.
 */
export class StoppedError extends GateError {
  constructor(readonly signal: string) {
    super(`stopped by ${signal} before the run ended; nothing it had not committed is kept`, signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated);
  }
}

/** The StoppedError of an aborted `signal`: its reason names the signal (SIGTERM when it names none). */
export function stoppedBy(signal: AbortSignal): StoppedError {
  return new StoppedError(typeof signal.reason === 'string' ? signal.reason : 'SIGTERM');
}

/** Throws StoppedError once `signal` has aborted. */
export function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw stoppedBy(signal);
}

/** Resolves after `ms`, or rejects with StoppedError as soon as `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(stoppedBy(signal));
    const stop = () => {
      clearTimeout(timer);
      reject(stoppedBy(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });
}

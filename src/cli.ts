import './node-compat.js';
import { closeSync, constants, existsSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig } from './config/env.js';
import { readLogSettings } from './config/log.js';
import { ConfigError, ExitCode, GateError, StoppedError, type ExitCodeValue } from './errors.js';
import { createLogger, createScrubber, gateLogger, type Logger } from './logging.js';
import { VERSION } from './version.js';
import type { CommandOutcome, Context } from './commands/context.js';
import { checkCommand } from './commands/check.js';
import { planCommand } from './commands/plan.js';
import { statusCommand } from './commands/status.js';
import { adoptCommand } from './commands/adopt.js';
import { restoreCommand } from './commands/restore.js';
import { watchCommand } from './commands/watch.js';
import { pruneCommand } from './commands/prune.js';
import { preflightCommand } from './commands/preflight.js';
import { judgeHealth } from './docker/health.js';

const ENVIRONMENT_HELP = `
Variables (the backend's own names, so one env file serves both):
  DATABASE_URL, or DB_HOST DB_PORT DB_DATABASE DB_USERNAME DB_PASSWORD (Laravel's precedence; sslmode in the URL)
  DB_CONNECTION=pgsql (the only one supported)
  STRIPE_SECRET_KEY STRIPE_PUBLIC_KEY, STRIPE_CA_* / STRIPE_IE_* (falling back to the plain pair)
  APP_SAAS_MODE_ENABLED (read as Hi.Events reads it)
  STRIPE_GATE_ON_MISMATCH=refuse|clean   STRIPE_GATE_ON_UNKNOWN=refuse|adopt|probe
  STRIPE_GATE_DB_WAIT_SECONDS=60   STRIPE_GATE_LOCK_WAIT_SECONDS=120   STRIPE_GATE_SETTLE_SECONDS=300
  STRIPE_GATE_STATEMENT_TIMEOUT_SECONDS=600
  STRIPE_GATE_STRIPE_API=auto|required|off   STRIPE_GATE_STRIPE_API_URL   STRIPE_GATE_SCHEMA=stripe_mode_gate
  STRIPE_GATE_PREFLIGHT=warn|refuse|off (the webhook checklist on a switch; VITE_API_URL_CLIENT names the webhook host)
  STRIPE_GATE_TERMINATION_LOG   STRIPE_GATE_HEALTH_FILE (watch, health)   STRIPE_GATE_ARCHIVE_DAYS (unset: keep until pruned)   LOG_LEVEL=info   LOG_FORMAT=json|pretty

Exit codes:
  0 ok   1 unhealthy (health only)   64 usage   65 refused: marker and configuration differ   66 refused: Stripe ids of unknown origin
  69 database (or Stripe) unavailable   70 internal error   75 lock not obtained in time   78 invalid configuration
  130 stopped by SIGINT   143 stopped by SIGTERM (nothing uncommitted is kept)`;

const TERMINATION_LOG = '/dev/termination-log';
/** Kubernetes shows at most 4 KiB of the termination message. */
const TERMINATION_LOG_LIMIT = 4096;

type Action = (ctx: Context) => Promise<CommandOutcome>;

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** How long a stopped run may take to reach its next wait before the process ends anyway. */
const STOP_GRACE_MS = 1000;

/**
 * SIGTERM (docker stop, a Kubernetes rollout) or SIGINT aborts the run's signal: the core ends at its next
 * wait, or before it commits, with StoppedError (143/130). A run busy in one statement is ended anyway after
 * STOP_GRACE_MS, with the same code: the connection closing with the process makes the server roll back
 * whatever was not committed. As PID 1 in a container the process has no default handler, so without this it
 * would wait for SIGKILL. `graceful` (watch): the command ends itself once aborted. Returns the function
 * that removes the handlers.
 */
function stopOnSignals(controller: AbortController, graceful: boolean, log: () => Logger | undefined, terminationLog: () => string | null): () => void {
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => {
      controller.abort(signal);
      if (graceful) return;
      setTimeout(() => {
        const { message, exitCode } = new StoppedError(signal);
        log()?.warn({ signal, exitCode }, message);
        writeTerminationLog(terminationLog(), message, log());
        process.exit(exitCode);
      }, STOP_GRACE_MS).unref();
    };
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

/**
 * Sets up configuration and logging, runs one command, and turns every outcome into an exit code. It prints
 * what the command has to say: text, or with --json one document in the envelope every command shares,
 * `{ command, exitCode, message, ... }`; a failure too (`decision: null`, `error`, and `problems` for an
 * invalid configuration), so that scripts always get one.
 */
async function run(command: string, action: Action, json = false, { graceful = false } = {}): Promise<ExitCodeValue> {
  const env = process.env;
  let log: Logger | undefined;
  // Taken before the rest of the configuration, so that an invalid setting is written there too.
  let terminationLog: string | null = env.STRIPE_GATE_TERMINATION_LOG || (existsSync(TERMINATION_LOG) ? TERMINATION_LOG : null);
  let scrub = createScrubber([]);
  const print = (text: string) => process.stdout.write(`${scrub(text)}\n`);
  const controller = new AbortController();
  const release = stopOnSignals(
    controller,
    graceful,
    () => log,
    () => terminationLog,
  );
  try {
    const config = loadConfig(env, { terminationLog });
    terminationLog = config.gate.terminationLog;
    scrub = createScrubber(config.secrets);
    log = await gateLogger(config);
    // Every command reads the configuration the same way, so every command says how it read it.
    for (const warning of config.warnings) log.warn(warning);
    const outcome = await action({ config, log, signal: controller.signal });
    if (outcome.reason) writeTerminationLog(terminationLog, scrub(outcome.reason), log);
    const { output } = outcome;
    // The final log line of every run: its command, exit code and what it has to say.
    if (output) log[outcome.exitCode === 0 ? 'info' : 'error']({ command, exitCode: outcome.exitCode, ...output.log }, output.message);
    if (output && json) print(JSON.stringify({ command, exitCode: outcome.exitCode, message: output.message, ...output.json }, null, 2));
    else if (output) print(output.text ?? output.message);
    return outcome.exitCode;
  } catch (error) {
    // Before the configuration is read, the log settings are taken as they are (invalid ones: the defaults).
    log ??= await createLogger(readLogSettings(env));
    const gateError = error instanceof GateError;
    const details = error instanceof ConfigError ? { problems: error.problems } : error instanceof StoppedError ? { signal: error.signal } : {};
    const message = gateError ? error.message : `internal error: ${error instanceof Error ? error.message : String(error)}`;
    if (gateError) log.error({ command, exitCode: error.exitCode, ...details }, message);
    else log.error({ command, err: error, exitCode: ExitCode.internal }, message);
    writeTerminationLog(terminationLog, scrub(message), log);
    const exitCode = gateError ? error.exitCode : ExitCode.internal;
    if (json) print(JSON.stringify({ command, decision: null, exitCode, message, error: message, ...details }, null, 2));
    return exitCode;
  } finally {
    release();
  }
}

/**
 * Writes the reason to a regular file only: never through a symlink (its target would be truncated), never
 * to a device or pipe (/dev/stdout would corrupt --json).
 */
function writeTerminationLog(path: string | null, reason: string, log: Logger | undefined): void {
  if (!path) return;
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
    if (!fstatSync(fd).isFile()) throw new Error('not a regular file');
    ftruncateSync(fd);
    writeSync(fd, Buffer.from(reason).subarray(0, TERMINATION_LOG_LIMIT));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ELOOP' ? 'a symlink' : (error as Error).message;
    log?.warn({ path, reason: why }, 'could not write the termination log (STRIPE_GATE_TERMINATION_LOG takes a regular file)');
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function program(setExit: (code: ExitCodeValue, now?: boolean) => void): Command {
  const cli = new Command('stripe-mode-gate')
    .description('Keeps Hi.Events from starting with Stripe ids created under another Stripe configuration.')
    .version(VERSION, '--version')
    .exitOverride()
    .addHelpText('after', ENVIRONMENT_HELP);
  const runAction = async (command: string, fn: Action, json?: boolean, options?: { graceful: boolean }) =>
    setExit(await run(command, fn, json, options), options?.graceful === true);

  cli
    .command('check', { isDefault: true })
    .description('the init job: compare the stored marker with the configuration, then start, record, repair or refuse')
    .option('--json', 'print the result as one JSON document on stdout')
    .addHelpText('after', ENVIRONMENT_HELP)
    .action((options) => runAction('check', (ctx) => checkCommand(ctx), options.json));
  cli
    .command('plan')
    .description('show what check would do now and the rows it would touch; changes nothing')
    .option('--json', 'print the plan as one JSON document on stdout')
    .option('--exit-code', "exit with the decision's exit code instead of 0")
    .addHelpText('after', ENVIRONMENT_HELP)
    .action((options) => runAction('plan', (ctx) => planCommand(ctx, options), options.json));
  cli
    .command('status')
    .description('show the marker, the configuration, Stripe id counts per table and the last runs')
    .option('--json', 'print the status as one JSON document on stdout')
    .addHelpText('after', ENVIRONMENT_HELP)
    .action((options) => runAction('status', (ctx) => statusCommand(ctx), options.json));
  cli
    .command('adopt')
    .description('declare what the existing Stripe ids were created under, without changing them')
    .addOption(new Option('--mode <mode>', 'the Stripe mode the ids were created in').choices(['test', 'live']).makeOptionMandatory())
    .addOption(new Option('--saas <bool>', 'whether SaaS mode was on (default: as configured now)').choices(['true', 'false']))
    .option('--force', 'replace a marker that says otherwise')
    .option('--json', 'print the result as one JSON document on stdout')
    .addHelpText('after', ENVIRONMENT_HELP)
    .action((options) => runAction('adopt', (ctx) => adoptCommand(ctx, options), options.json));
  cli
    .command('restore')
    .description('put back what a cleaned run archived, and the marker it replaced, in one transaction')
    .option('--run <id>', 'the cleaned run to restore (default: the newest)')
    .option('--json', 'print the result as one JSON document on stdout')
    .addHelpText('after', ENVIRONMENT_HELP)
    .action((options) => runAction('restore', (ctx) => restoreCommand(ctx, options), options.json));
  cli
    .command('prune')
    .description("delete what the archive keeps of old and of restored cleaned runs (customers' names and emails); those runs can no longer be restored")
    .option('--older-than <days>', 'prune cleaned runs older than this many days (default: STRIPE_GATE_ARCHIVE_DAYS; unset: restored runs only)')
    .option('--json', 'print the result as one JSON document on stdout')
    .addHelpText('after', ENVIRONMENT_HELP)
    .action((options) => runAction('prune', (ctx) => pruneCommand(ctx, options), options.json));
  cli
    .command('preflight')
    .description(
      'the rest of a Stripe switch as a checklist per platform: keys, webhook secret, webhook endpoint and, in SaaS mode, Connect; ' +
        'changes nothing; exit 78 when an item fails',
    )
    .option('--json', 'print the checklist as one JSON document on stdout')
    .addHelpText('after', ENVIRONMENT_HELP)
    .action((options) => runAction('preflight', (ctx) => preflightCommand(ctx), options.json));
  cli
    .command('watch')
    .description(
      'the sidecar: on every start of a protected container (label stripe-mode-gate.protect=true, or named in ' +
        'STRIPE_GATE_WATCH_CONTAINERS), decide with its own Stripe settings and stop it unless it may run; never changes data',
    )
    .addHelpText('after', `${ENVIRONMENT_HELP}\n\nwatch also reads STRIPE_GATE_WATCH_CONTAINERS and DOCKER_HOST (default unix:///var/run/docker.sock).`)
    // The sidecar ends itself on SIGTERM, with 0.
    .action(() => runAction('watch', (ctx) => watchCommand(ctx), false, { graceful: true }));
  cli
    .command('health')
    .description("the image's HEALTHCHECK: 0 when the watcher here reaches Docker and the database (or no watcher runs here), 1 when not")
    .option('--json', 'print the result as one JSON document on stdout')
    .action((options) =>
      runAction(
        'health',
        async (ctx) => {
          const verdict = judgeHealth(ctx.config.gate.healthFile);
          const message = verdict ? `${verdict.healthy ? 'healthy' : 'unhealthy'}: ${verdict.why}` : 'no watcher runs here: nothing to report';
          return { exitCode: verdict && !verdict.healthy ? ExitCode.unhealthy : ExitCode.ok, output: { message, json: { healthy: verdict?.healthy ?? null } } };
        },
        options.json,
      ),
    );
  return cli;
}

async function main(): Promise<void> {
  let exitCode: ExitCodeValue = ExitCode.ok;
  let exitNow = false;
  try {
    const cli = program((code, now = false) => {
      exitCode = code;
      exitNow = now;
    });
    // `check` is the default command: without this, a mistyped command would be taken as its argument.
    const [first] = process.argv.slice(2);
    if (first && !first.startsWith('-') && first !== 'help' && !cli.commands.some((c) => c.name() === first)) {
      cli.error(`error: unknown command '${first}' (commands: ${cli.commands.map((c) => c.name()).join(', ')})`, {
        exitCode: ExitCode.usage,
        code: 'commander.unknownCommand',
      });
    }
    await cli.parseAsync(process.argv);
  } catch (error) {
    // Commander has printed its message; help and --version end with 0, anything else is a usage error.
    if (error instanceof CommanderError) exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    else throw error;
  }
  process.exitCode = exitCode;
  // watch, once stopped: a judgement still under way must not outlive it (its transaction rolls back with the
  // connection), nor keep the process up until Docker's SIGKILL.
  if (exitNow) process.exit(exitCode);
}

// A reader that stops early (`stripe-mode-gate --help | head`) is not the gate's failure: no stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? ExitCode.ok);
});

main().catch((error: unknown) => {
  const scrub = createScrubber([]);
  process.stderr.write(`stripe-mode-gate: internal error: ${scrub(error instanceof Error ? error.message : String(error))}\n`);
  process.exitCode = ExitCode.internal;
});

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export interface LogSettings {
  level: LogLevel;
  format: 'json' | 'pretty';
}

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The backend's env file often sets Laravel's LOG_LEVEL (PSR-3 names); the gate reads the same file, so
 * those names are understood too rather than failing the start-up.
 */
const PSR3_LEVELS: Record<string, LogLevel> = {
  emergency: 'fatal',
  alert: 'fatal',
  critical: 'fatal',
  warning: 'warn',
  notice: 'info',
};

/** Log settings never fail: an invalid value falls back to the default and is reported as a problem. */
export function readLogSettings(env: Readonly<Record<string, string | undefined>>): LogSettings & { problems: string[] } {
  const problems: string[] = [];
  const rawLevel = (env.LOG_LEVEL || 'info').toLowerCase();
  let level: LogLevel = 'info';
  if (LEVELS.includes(rawLevel)) level = rawLevel as LogLevel;
  else if (rawLevel in PSR3_LEVELS) level = PSR3_LEVELS[rawLevel];
  else problems.push(`LOG_LEVEL: expected one of ${LEVELS.join(', ')} (or a Laravel level name)`);
  const rawFormat = env.LOG_FORMAT || 'json';
  if (rawFormat !== 'json' && rawFormat !== 'pretty') problems.push('LOG_FORMAT: expected json or pretty');
  return { level, format: rawFormat === 'pretty' ? 'pretty' : 'json', problems };
}

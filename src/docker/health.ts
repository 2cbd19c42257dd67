import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** What the watcher last knew of the two things it needs; null means reachable. */
export interface WatchHealth {
  /** When it was written (ms since the epoch): a watcher that stopped writing is unhealthy too. */
  at: number;
  pid: number;
  docker: string | null;
  database: string | null;
}

/** How often the watcher checks the database and writes its health, and when a silent one counts as dead. */
export const HEALTH_EVERY_MS = 15_000;
const STALE_AFTER_MS = 4 * HEALTH_EVERY_MS;

/** Written whole or not at all (rename), so that a health check never reads half a file. */
export function writeHealth(path: string, health: Omit<WatchHealth, 'at' | 'pid'>): void {
  const record: WatchHealth = { at: Date.now(), pid: process.pid, ...health };
  writeFileSync(`${path}.tmp`, JSON.stringify(record));
  renameSync(`${path}.tmp`, path);
}

/**
 * The verdict of `stripe-mode-gate health` (the image's HEALTHCHECK): null when no watcher runs here (a
 * one-shot `check` container has nothing to report), else whether the watcher can reach Docker and the
 * database, and why not.
 */
export function judgeHealth(path: string, now = Date.now()): { healthy: boolean; why: string } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  let health: Partial<WatchHealth> | null = null;
  try {
    health = JSON.parse(text);
  } catch {
    // judged below, as a file of another shape
  }
  const reason = (v: unknown) => v === null || typeof v === 'string';
  if (!health || typeof health.at !== 'number' || !reason(health.docker) || !reason(health.database)) {
    return { healthy: false, why: `the health file ${path} is not as the watcher writes it` };
  }
  if (now - health.at > STALE_AFTER_MS) return { healthy: false, why: `the watcher has not reported for ${Math.round((now - health.at) / 1000)} s` };
  const problems = [health.docker && `Docker: ${health.docker}`, health.database && `database: ${health.database}`].filter(Boolean);
  // (A watcher that cannot write the file at all warns in its log; its container then reports nothing.)
  return problems.length > 0 ? { healthy: false, why: problems.join('; ') } : { healthy: true, why: 'Docker and the database are reachable' };
}

// The verdict of `stripe-mode-gate health` on what the watcher wrote, and on what it did not.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { judgeHealth, writeHealth } from '../../src/docker/health.js';

const dir = mkdtempSync(join(tmpdir(), 'smg-health-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text?: string) => {
  const path = join(dir, name);
  if (text !== undefined) writeFileSync(path, text);
  return path;
};

describe('judgeHealth', () => {
  it('nothing to report where no watcher wrote', () => {
    expect(judgeHealth(file('none'))).toBeNull();
  });

  it('healthy when the watcher reaches both, unhealthy naming what it cannot reach, or when it stopped reporting', () => {
    const path = file('watcher');
    writeHealth(path, { docker: null, database: null });
    expect(judgeHealth(path)).toEqual({ healthy: true, why: 'Docker and the database are reachable' });
    writeHealth(path, { docker: null, database: 'connect ECONNREFUSED 127.0.0.1:5432' });
    expect(judgeHealth(path)).toEqual({ healthy: false, why: 'database: connect ECONNREFUSED 127.0.0.1:5432' });
    writeHealth(path, { docker: null, database: null });
    expect(judgeHealth(path, Date.now() + 10 * 60_000)).toMatchObject({
      healthy: false,
      why: expect.stringMatching(/^the watcher has not reported for \d+ s/),
    });
  });

  it.each([['{}'], ['null'], ['[]'], ['not json'], ['{"at": "soon", "docker": null, "database": null}']])(
    'a file of another shape (%s) is unhealthy, never healthy or a crash',
    (text) => {
      expect(judgeHealth(file(`odd-${Math.random()}`, text))).toMatchObject({
        healthy: false,
        why: expect.stringContaining('is not as the watcher writes it'),
      });
    },
  );
});

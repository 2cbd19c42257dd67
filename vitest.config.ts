import { defineConfig } from 'vitest/config';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const define = { __GATE_VERSION__: JSON.stringify(version) };
const project = (name: string, timeouts = { testTimeout: 30_000, hookTimeout: 60_000 }) => ({
  define,
  test: { name, include: [`test/${name}/**/*.test.ts`], ...timeouts },
});

export default defineConfig({
  test: {
    // In-process runs only: the e2e tests run the built bundle in child processes, which coverage does not see.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary'],
      // A little under what the unit and integration tests reach (84% of statements, 78% of branches): a
      // change that drops coverage fails `npm test`.
      thresholds: { statements: 82, branches: 75, functions: 81, lines: 83 },
    },
    // One PostgreSQL for the whole run (or TEST_DATABASE_URL), provided to every project.
    globalSetup: ['test/support/global-setup.ts'],
    // release: what a release ships (workflows, the npm package, manifests), checked with npm, kubectl and tsc.
    // docker: the compose example and drop-ins on a real Docker engine (installed and started by the tests).
    projects: [project('unit'), project('integration'), project('e2e'), project('release'), project('docker', { testTimeout: 120_000, hookTimeout: 300_000 })],
  },
});

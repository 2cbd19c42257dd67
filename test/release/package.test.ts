// The npm package as a user gets it: `npm pack` of this checkout (the bundle `npm test` built; `prepack`
// builds it on publish), installed into an empty folder without the registry, run with npx.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const npm = (args: string[], cwd: string) => spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });

let dir: string;
let packed: { filename: string; files: { path: string }[] };
let user: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smg-pack-'));
  // --ignore-scripts: prepack would rebuild dist/ under the feet of the other test files.
  const pack = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root);
  expect(pack.status, pack.stderr).toBe(0);
  [packed] = JSON.parse(pack.stdout);
  user = join(dir, 'empty');
  mkdirSync(user);
  const install = npm(['install', '--offline', '--no-audit', '--no-fund', join(dir, packed.filename)], user);
  expect(install.status, install.stderr).toBe(0);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const npx = (args: string[], env: Record<string, string> = {}) =>
  spawnSync('npx', ['--offline', '--no-install', 'stripe-mode-gate', ...args], { cwd: user, encoding: 'utf8', env: { ...process.env, ...env } });

describe('the npm package', () => {
  it('holds the bundle, the README, LICENSE and CHANGELOG, and nothing of the sources or tests', () => {
    const files = packed.files.map((f) => f.path).sort();
    expect(files).toEqual(expect.arrayContaining(['CHANGELOG.md', 'LICENSE', 'README.md', 'dist/cli.mjs', 'package.json']));
    expect(files.filter((f) => !/^(dist\/|CHANGELOG\.md$|LICENSE$|README\.md$|package\.json$)/.test(f))).toEqual([]);
    expect(pkg.private).toBeUndefined();
    expect(pkg.scripts.prepack).toBe('npm run build');
    // The bundle carries its dependencies: installing it fetches nothing.
    expect(pkg.dependencies).toBeUndefined();
  });

  it('npx stripe-mode-gate --help and --version work in an empty folder', () => {
    const help = npx(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: stripe-mode-gate');
    expect(help.stdout).toContain('STRIPE_GATE_ON_MISMATCH');
    expect(npx(['--version']).stdout.trim()).toBe(pkg.version);
  });

  it('runs a command, with the pretty logs of LOG_FORMAT=pretty, from the bundle alone', () => {
    const run = npx(['check', '--json'], { LOG_FORMAT: 'pretty', STRIPE_SECRET_KEY: '', STRIPE_PUBLIC_KEY: '' });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ command: 'check', decision: 'skipped', exitCode: 0 });
    expect(run.stderr).toMatch(/INFO \(stripe-mode-gate\): No Stripe secret key is configured/);
  });

  it('a reader that stops early (| head) ends it quietly', async () => {
    const child = spawn(join(user, 'node_modules/.bin/stripe-mode-gate'), ['--help'], { cwd: user });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.destroy();
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});

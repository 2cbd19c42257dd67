// Bundles the CLI into one file that runs without node_modules (the container ships only this file).
import { build } from 'esbuild';
import { chmod, readFile } from 'node:fs/promises';

const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const outfile = 'dist/cli.cjs';
await build({
  entryPoints: ['src/cli.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  define: { __GATE_VERSION__: JSON.stringify(version) },
  // Optional native add-ons of pg and ssh2 (dockerode); the pure-JS paths are used without them.
  external: ['pg-native', 'cpu-features', '*.node'],
  logLevel: 'warning',
});
await chmod(outfile, 0o755);

// Bundles the CLI into dist/ so that it runs without node_modules (the container ships only dist/). ESM with
// code splitting: what only some commands need (the Stripe SDK, dockerode and its SSH and gRPC stacks,
// pretty logging) lands in chunks loaded on demand, so the match path parses a fraction of the code.
import { build } from 'esbuild';
import { chmod, readFile, rm } from 'node:fs/promises';

const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  // CommonJS dependencies inside an ESM bundle still call require() for Node's own modules, and some (ssh2,
  // under dockerode) read __dirname when loaded.
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __gateRequire } from 'node:module';",
      "import { fileURLToPath as __gatePath } from 'node:url';",
      'const require = __gateRequire(import.meta.url);',
      'const __filename = __gatePath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join('\n'),
  },
  define: { __GATE_VERSION__: JSON.stringify(version) },
  // Optional native add-ons of pg and ssh2 (dockerode); the pure-JS paths are used without them.
  external: ['pg-native', 'cpu-features', '*.node'],
  logLevel: 'warning',
});
await chmod('dist/cli.mjs', 0o755);

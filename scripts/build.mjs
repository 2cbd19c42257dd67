// Bundles the CLI into dist/ so that it runs without node_modules (the container ships only dist/): one file,
// dist/cli.mjs, for everything every run needs, and one self-contained file per package that only some
// commands load on demand (dist/lazy/: the Stripe SDK, dockerode with its SSH and gRPC stacks, pretty
// logging). Not esbuild's code splitting: its shared chunks are more files to load on every start, which
// costs the match path more than the few kilobytes they would save (README, Benchmarks).
import { build } from 'esbuild';
import { chmod, readFile, rm } from 'node:fs/promises';

const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
/** Packages imported with `await import(...)` in src/, each bundled into dist/lazy/<name>.mjs. */
const LAZY = ['stripe', 'dockerode', 'pino-pretty'];

const common = {
  bundle: true,
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
};

/** The lazy packages stay imports, of their own bundles next to the CLI. */
const lazyImports = {
  name: 'lazy-imports',
  setup(b) {
    const names = new RegExp(`^(${LAZY.join('|')})$`);
    b.onResolve({ filter: names }, (args) => ({ path: `./lazy/${args.path}.mjs`, external: true }));
  },
};

await rm('dist', { recursive: true, force: true });
await build({ ...common, entryPoints: { cli: 'src/cli.ts' }, outdir: 'dist', outExtension: { '.js': '.mjs' }, plugins: [lazyImports] });
for (const name of LAZY) {
  await build({ ...common, stdin: { contents: `export { default } from '${name}';`, resolveDir: '.', loader: 'js' }, outfile: `dist/lazy/${name}.mjs` });
}
await chmod('dist/cli.mjs', 0o755);

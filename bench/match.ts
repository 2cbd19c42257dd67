// Benchmark: the common case, `stripe-mode-gate check` when nothing changed (decision match), against a bare
// Node process that connects with pg and runs one SELECT: the least any start-up check of the database costs.
// A measurement, not a test.
//
//   npm run bench:match                 builds the CLI, then 30 runs of each, alternating
//   npx tsx bench/match.ts --runs 50    after `npm run build`; --readme writes the figures into README.md
//   npx tsx bench/match.ts --cli ../other/dist/cli.mjs    another build (e.g. the previous commit's), same runs
//
// Goal: median(gate) / median(bare) within 1.2x (README, Benchmarks).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDatabase, startPostgres } from '../scripts/lib/postgres.js';
import { fixturePath } from '../test/fixtures/hievents/index.js';
import { median, percentile, writeReadme } from './stats.js';

const BUILT = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KEY = 'sk_test_51BenchMatchKey000000000000000';
const GOAL = 1.2;
/** The bare baseline: node, the pg module, one connection, one SELECT. */
const BARE =
  "const pg = require('pg'); const c = new pg.Client({ connectionString: process.env.DATABASE_URL }); c.connect().then(() => c.query('SELECT 1')).then(() => c.end())";

function timed(args: string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { env, cwd: ROOT, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return ms;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: process.env.BENCH_RUNS ?? '30' },
      readme: { type: 'boolean', default: false },
      cli: { type: 'string', default: BUILT },
    },
  });
  const runs = Number(values.runs);
  const CLI = values.cli;
  const server = await startPostgres();
  try {
    const url = await createDatabase(server, 'bench_match', fixturePath('E'));
    const env = { PATH: process.env.PATH, DATABASE_URL: url, STRIPE_SECRET_KEY: KEY, STRIPE_GATE_ON_UNKNOWN: 'adopt', LOG_LEVEL: 'warn' };
    // The first run adopts (and asks nobody: the key is valid nowhere, so Stripe stays off); every later one matches.
    const gateEnv = { ...env, STRIPE_GATE_STRIPE_API: 'off' };
    timed([CLI, 'check'], gateEnv);
    const check = spawnSync(process.execPath, [CLI, 'check', '--json'], { env: gateEnv, encoding: 'utf8' });
    if (JSON.parse(check.stdout).decision !== 'match') throw new Error(`expected match: ${check.stdout}`);

    const gate: number[] = [];
    const bare: number[] = [];
    const version: number[] = [];
    for (let i = 0; i < runs; i++) {
      gate.push(timed([CLI, 'check'], gateEnv));
      bare.push(timed(['-e', BARE], env));
      version.push(timed([CLI, '--version'], env));
    }
    const figures = {
      bench: 'match',
      runs,
      gateMs: { median: +median(gate).toFixed(1), p90: +percentile(gate, 0.9).toFixed(1) },
      bareMs: { median: +median(bare).toFixed(1), p90: +percentile(bare, 0.9).toFixed(1) },
      versionMs: { median: +median(version).toFixed(1) },
      ratio: +(median(gate) / median(bare)).toFixed(2),
      goal: { ratio: GOAL, met: median(gate) / median(bare) <= GOAL },
      postgres: server.version,
      node: process.version,
      machine: { cpu: os.cpus()[0]?.model.trim(), cores: os.cpus().length },
    };
    console.log(`gate check (match)       median ${figures.gateMs.median} ms   p90 ${figures.gateMs.p90} ms`);
    console.log(`bare node + pg SELECT    median ${figures.bareMs.median} ms   p90 ${figures.bareMs.p90} ms`);
    console.log(`gate --version           median ${figures.versionMs.median} ms`);
    console.log(`ratio ${figures.ratio}x   goal <= ${GOAL}x: ${figures.goal.met ? 'met' : 'NOT met'}`);
    console.log(JSON.stringify(figures));
    if (values.readme) {
      writeReadme(
        'match',
        [
          `${runs} runs each, alternating; Node ${process.version.slice(1)}, PostgreSQL ${server.version}, ${figures.machine.cores} cores (\`npm run bench:match -- --runs ${runs} --readme\` wrote this):`,
          '',
          '| | median | p90 |',
          '|---|---|---|',
          `| \`stripe-mode-gate check\` (match) | ${figures.gateMs.median} ms | ${figures.gateMs.p90} ms |`,
          `| bare \`node\` + pg + \`SELECT 1\` | ${figures.bareMs.median} ms | ${figures.bareMs.p90} ms |`,
          `| \`stripe-mode-gate --version\` (start-up alone) | ${figures.versionMs.median} ms | |`,
          `| ratio | **${figures.ratio.toFixed(2)}x** (goal ≤ ${GOAL}x) | |`,
        ].join('\n'),
      );
    }
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

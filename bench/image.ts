// The image's size and cold start: builds the Dockerfile on a private Docker engine (root, dockerd from
// Debian's docker.io; the Node base image made from this machine's node, as in the Docker tests), then times
// `docker run --rm <image> --version` (container creation, Node start, CLI load) and `--help`.
//   npx tsx bench/image.ts [--runs 10] [--readme]     (npm run bench:image)
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { BASE_IMAGE, importBaseImage, startDockerEngine } from '../test/support/docker-engine.js';
import { median, percentile, writeReadme } from './stats.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, readme: { type: 'boolean', default: false } } });
const runs = Number(values.runs);
const IMAGE = 'stripe-mode-gate:bench';

const engine = await startDockerEngine();
try {
  importBaseImage(engine, `${root}test/docker/base-image.sh`);
  engine.docker(['build', '-q', '--network', 'host', '--build-arg', `NODE_IMAGE=${BASE_IMAGE}`, '-t', IMAGE, '.'], { cwd: root });
  const size = Number(engine.docker(['image', 'inspect', '-f', '{{.Size}}', IMAGE]).trim());
  const base = Number(engine.docker(['image', 'inspect', '-f', '{{.Size}}', BASE_IMAGE]).trim());
  const timed = (args: string[]) =>
    Array.from({ length: runs }, () => {
      const started = process.hrtime.bigint();
      engine.docker(['run', '--rm', '--network', 'none', IMAGE, ...args]);
      return Number(process.hrtime.bigint() - started) / 1e6;
    });
  const version = timed(['--version']);
  const help = timed(['--help']);
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const ms = (values: number[]) => `${median(values).toFixed(0)} ms (p90 ${percentile(values, 0.9).toFixed(0)} ms)`;
  const markdown = [
    `Built from the Dockerfile on this machine's Node ${process.version.slice(1)} as base image (\`npm run bench:image -- --runs ${runs} --readme\` wrote this):`,
    '',
    '| figure | value |',
    '|---|---|',
    `| image size | ${mb(size)}, of which the gate adds ${mb(size - base)} (the base: ${mb(base)}) |`,
    `| \`docker run --rm … --version\`, median of ${runs} | ${ms(version)} |`,
    `| \`docker run --rm … --help\`, median of ${runs} | ${ms(help)} |`,
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  if (values.readme) writeReadme('image', markdown);
} finally {
  await engine.stop();
}

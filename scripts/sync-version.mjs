// package.json's version is the one source of the version: this writes it into every place that pins it (the
// image tag in the compose files, manifests and docs, the release tag in their download links, the
// Dockerfile's default VERSION label). `npm version` runs it (the "version" script); `--check` only lists the
// places that differ, and exits 1 when there are any (a unit test runs it).
//   node scripts/sync-version.mjs [--check]
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { version } = pkg;
// github.com/<owner>/<name>: the image is ghcr.io/<owner>/<name>, as the release workflow pushes it.
const repository = /github\.com\/([^/]+\/[^/.]+)/.exec(pkg.repository.url)[1];
const image = `ghcr.io/${repository}`.toLowerCase();
const semver = String.raw`\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?`;
const escaped = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** [pattern, what it must read]: each match is replaced by the second. */
const pins = [
  [new RegExp(`${escaped(image)}:(?:${semver}|latest)\\b`, 'g'), `${image}:${version}`],
  [new RegExp(`(${escaped(repository)}/)v${semver}/`, 'g'), `$1v${version}/`],
  [new RegExp(`(${escaped(repository)}//[^\\s?]*\\?ref=)v${semver}`, 'g'), `$1v${version}`],
  [new RegExp(`^ARG VERSION=${semver}$`, 'gm'), `ARG VERSION=${version}`],
];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    if (['node_modules', 'dist', '.git', 'test', 'coverage'].includes(name) || name === 'CHANGELOG.md') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(ya?ml|md)$|^Dockerfile$/.test(name)) yield path;
  }
}

const check = process.argv.includes('--check');
const stale = [];
for (const path of files(root)) {
  const text = readFileSync(path, 'utf8');
  let synced = text;
  for (const [pattern, wanted] of pins) synced = synced.replace(pattern, wanted);
  if (synced === text) continue;
  const before = text.split('\n');
  synced.split('\n').forEach((line, i) => {
    if (line !== before[i]) stale.push(`${relative(root, path)}:${i + 1}: ${before[i].trim()}`);
  });
  if (!check) writeFileSync(path, synced);
}
if (check && stale.length > 0) {
  process.stderr.write(`not at version ${version} (run: node scripts/sync-version.mjs):\n${stale.join('\n')}\n`);
  process.exit(1);
}
if (!check) process.stdout.write(stale.length > 0 ? `set ${version} in:\n${stale.join('\n')}\n` : `every place already says ${version}\n`);

// Prints the release notes of a tag: its version's section of CHANGELOG.md. Fails (exit 1, saying why) when
// the tag is not `v` + the version in package.json, or the section is missing, undated or empty, so that a
// tag can only publish the version the package, the image and `--version` all carry.
//   node scripts/release-notes.mjs v0.1.0 > notes.md
import { readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const tag = process.argv[2] ?? '';
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const changelog = readFileSync(new URL('CHANGELOG.md', root), 'utf8');

function fail(message) {
  process.stderr.write(`release-notes: ${message}\n`);
  process.exit(1);
}

if (tag !== `v${version}`) fail(`tag ${JSON.stringify(tag)} is not v${version}, the version in package.json`);
const sections = changelog.split(/^## /m).slice(1);
const section = sections.find((s) => s.startsWith(`[${version}]`));
if (!section) fail(`CHANGELOG.md has no section "## [${version}] - YYYY-MM-DD"`);
const [heading, ...body] = section.split('\n');
if (!/^\[[^\]]+\] - \d{4}-\d{2}-\d{2}$/.test(heading.trim())) fail(`the heading "## ${heading}" has no release date`);
const notes = body
  .filter((line) => !/^\[[^\]]+\]: /.test(line))
  .join('\n')
  .trim();
if (!notes) fail(`the section of ${version} in CHANGELOG.md is empty`);
process.stdout.write(`${notes}\n`);

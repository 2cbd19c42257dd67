// What the benchmarks share: one median, one percentile, and writing their figures into the README.
import { readFileSync, writeFileSync } from 'node:fs';

/** The middle value; for an even count, the mean of the two middle ones. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The value below which a share `p` (0..1) of the values lie (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))];
}

/**
 * Replaces the README's text between `<!-- bench:<name> -->` and `<!-- /bench:<name> -->` (with --readme), so
 * that the figures there are this run's output and nothing copied by hand.
 */
export function writeReadme(name: string, markdown: string): void {
  const path = new URL('../README.md', import.meta.url);
  const readme = readFileSync(path, 'utf8');
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} ... ${end} section`);
  writeFileSync(path, `${readme.slice(0, from + start.length)}\n${markdown.trim()}\n${readme.slice(to)}`);
  process.stderr.write(`README.md: the ${name} figures written\n`);
}

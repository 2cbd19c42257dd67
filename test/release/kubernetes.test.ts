// The Kubernetes material: the kustomize component rendered with `kubectl kustomize` onto a stand-in of a
// user's Hi.Events manifests, and every manifest type-checked against the Kubernetes API types
// (kubernetes-types) with tsc, so that a misspelled or misplaced field fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Container {
  name: string;
  envFrom?: unknown[];
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: { template?: { spec: { initContainers?: Container[]; containers: Container[] } } };
}

function kustomize(dir: string): Manifest[] {
  const rendered = execFileSync('kubectl', ['kustomize', join(root, dir)], { encoding: 'utf8' });
  return parseAllDocuments(rendered).map((doc) => doc.toJS());
}

const manifestsOf = (path: string): Manifest[] =>
  parseAllDocuments(readFileSync(join(root, path), 'utf8'))
    .map((doc) => doc.toJS())
    .filter(Boolean);

/** The API type of each kind the manifests use; another kind fails the check until it is added here. */
const TYPES: Record<string, { type: string; from: string }> = {
  Deployment: { type: 'Deployment', from: 'kubernetes-types/apps/v1' },
  Job: { type: 'Job', from: 'kubernetes-types/batch/v1' },
  ConfigMap: { type: 'ConfigMap', from: 'kubernetes-types/core/v1' },
  Secret: { type: 'Secret', from: 'kubernetes-types/core/v1' },
};

/** tsc's errors for the manifests, each written as an object literal of its kind's API type. */
function typeErrors(manifests: Manifest[]): string {
  const imports = Object.values(TYPES).map(({ type, from }) => `import type { ${type} } from '${from}';`);
  const objects = manifests.map((m, i) => {
    const known = TYPES[m.kind];
    if (!known) throw new Error(`no API type for kind ${m.kind}: add it to TYPES`);
    return `export const m${i}: ${known.type} = ${JSON.stringify(m, null, 2)};`;
  });
  // Inside node_modules, so that the types resolve as they do for the project.
  const dir = join(root, 'node_modules/.cache/smg-kubernetes-types');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `manifests-${process.pid}-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, [...imports, ...objects].join('\n'));
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck', file], {
    encoding: 'utf8',
  });
  return tsc.status === 0 ? '' : tsc.stdout;
}

describe('the kustomize component', () => {
  const rendered = kustomize('test/fixtures/kustomize/overlay');
  const deployment = (name: string) => rendered.find((m) => m.kind === 'Deployment' && m.metadata.name === name)!.spec!.template!.spec;

  it('adds the gate as the first init container of the backend and the worker, and leaves the frontend alone', () => {
    expect(deployment('hievents-backend').initContainers!.map((c) => c.name)).toEqual(['stripe-mode-gate', 'wait-for-postgres']);
    expect(deployment('hievents-worker').initContainers!.map((c) => c.name)).toEqual(['stripe-mode-gate']);
    expect(deployment('hievents-frontend').initContainers).toBeUndefined();
  });

  it('gives the gate the settings of the container it guards: the same Secret and ConfigMap', () => {
    for (const name of ['hievents-backend', 'hievents-worker']) {
      const spec = deployment(name);
      expect(spec.initContainers![0].envFrom, name).toEqual(spec.containers[0].envFrom);
    }
  });

  it('renders to manifests that type-check against the Kubernetes API', () => {
    expect(typeErrors(rendered)).toBe('');
  });
});

describe('the other manifests', () => {
  it('the Helm hook Job and the whole example type-check against the Kubernetes API', () => {
    const job = manifestsOf('deploy/helm/stripe-mode-gate-job.yaml');
    expect(job.map((m) => m.kind)).toEqual(['Job']);
    expect(typeErrors([...job, ...manifestsOf('deploy/kubernetes/hievents.yaml')])).toBe('');
  });

  it('a misspelled or misplaced field fails the check', () => {
    const [job] = manifestsOf('deploy/helm/stripe-mode-gate-job.yaml') as (Manifest & { spec: Record<string, unknown> })[];
    const misspelled = { ...job, spec: { ...job.spec, backofLimit: 4 } };
    expect(typeErrors([misspelled])).toMatch(/'"backofLimit"' does not exist in type 'JobSpec'/);
    const misplaced = { ...job, spec: { ...job.spec, restartPolicy: 'Never' } };
    expect(typeErrors([misplaced])).toMatch(/'"restartPolicy"' does not exist in type 'JobSpec'/);
  });
});

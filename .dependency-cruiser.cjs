// The layer rule of docs/ARCHITECTURE.md, checked in `npm test` (`npm run lint:layers`): a module imports only
// from its own layer or the layers below it, and nothing imports in a circle.
/** The layers of src/, from the bottom up; a module belongs to the first whose pattern matches its path. */
const LAYERS = [
  ['base', '^src/(errors|version|node-compat)\\.ts$|^src/stripe/keys\\.ts$'],
  ['config', '^src/config/'],
  ['logging', '^src/(logging|context)\\.ts$'],
  ['db', '^src/db/'],
  ['hievents', '^src/hievents/'],
  ['marker', '^src/marker/'],
  ['stripe', '^src/stripe/(?!keys\\.ts$)'],
  ['decision', '^src/decision\\.ts$'],
  ['assess', '^src/(assess|late|preflight)\\.ts$|^src/cleanup/'],
  ['core', '^src/core/|^src/report\\.ts$'],
  ['docker', '^src/docker/'],
  ['commands', '^src/commands/'],
  ['cli', '^src/cli\\.ts$'],
];

const ALL = LAYERS.map(([, path]) => `(${path})`).join('|');

const forbidden = [
  {
    name: 'in-a-layer',
    severity: 'error',
    comment: 'every module of src/ belongs to a layer (add a new folder or file to LAYERS), else nothing checks it',
    from: { path: '^src/', pathNot: ALL },
    to: {},
  },
  {
    name: 'in-a-layer-too',
    severity: 'error',
    comment: 'every module of src/ that is imported belongs to a layer',
    from: { path: '^src/' },
    to: { path: '^src/', pathNot: ALL },
  },
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'modules importing each other in a circle cannot be understood one at a time',
    from: { path: '^src/' },
    to: { circular: true },
  },
  // Each layer may not import any layer above it.
  ...LAYERS.slice(0, -1).map(([name, path], i) => ({
    name: `layer-${name}`,
    severity: 'error',
    comment: `${name} is below ${LAYERS.slice(i + 1).map(([above]) => above).join(', ')}: it may not import them`,
    from: { path },
    to: { path: LAYERS.slice(i + 1).map(([, above]) => `(${above})`).join('|') },
  })),
];

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};

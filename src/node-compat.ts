// Node 21 and later define `navigator`. Without it, pg probes for Cloudflare Workers when it loads by building
// a fetch Response, which makes Node 20 compile its whole fetch implementation (about 8 ms of every start).
// Defining it as later Node versions do skips the probe; nothing else here looks at it.
const scope = globalThis as { navigator?: { userAgent: string } };
if (scope.navigator === undefined) {
  Object.defineProperty(scope, 'navigator', {
    value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` },
    configurable: true,
    writable: true,
  });
}
export {};

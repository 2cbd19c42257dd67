declare const __GATE_VERSION__: string | undefined;

/** Set at build time from package.json (esbuild --define, vitest define). */
export const VERSION: string = typeof __GATE_VERSION__ === 'string' ? __GATE_VERSION__ : '0.0.0-dev';

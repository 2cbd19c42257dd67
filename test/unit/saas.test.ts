import { describe, expect, it } from 'vitest';
import { readSaasMode } from '../../src/config/saas.js';

// Laravel's env() conversions, then PHP truthiness (README, Configuration: APP_SAAS_MODE_ENABLED): what the backend itself sees.
const cases: [string | undefined, boolean, boolean][] = [
  // raw value, Hi.Events reads it as, warning expected
  [undefined, false, false],
  ['', false, false],
  ['true', true, false],
  ['false', false, false],
  ['1', true, false],
  ['0', false, false],
  ['TRUE', true, true],
  ['False', false, true],
  ['(true)', true, true],
  ['(false)', false, true],
  ['empty', false, true],
  ['(empty)', false, true],
  ['null', false, true],
  ['(null)', false, true],
  ['off', true, true],
  ['no', true, true],
  ['False ', true, true],
  [' false', true, true],
  ['"false"', true, true],
  ["'0'", false, true],
  ['""', false, true],
  ['"true"', true, true],
  ['00', true, true],
  ['0.0', true, true],
  ['yes', true, true],
];

describe('APP_SAAS_MODE_ENABLED read as Hi.Events reads it', () => {
  it.each(cases)('%j -> %s', (raw, enabled, warns) => {
    const result = readSaasMode(raw);
    expect(result.enabled).toBe(enabled);
    expect(result.warning !== undefined).toBe(warns);
    if (warns) expect(result.warning).toContain(`reads this value as ${enabled}`);
  });
});

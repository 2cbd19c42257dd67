import { describe, expect, it } from 'vitest';
import { readSaasMode } from '../../src/config/saas.js';

// Laravel's env() conversions, then PHP truthiness (README, Configuration: APP_SAAS_MODE_ENABLED): what the backend itself sees.
/** Raw values Hi.Events reads as `enabled`, with the warning expected or not: [raw, enabled, warns] rows. */
const readAs = (enabled: boolean, warns: boolean, raws: (string | undefined)[]) => raws.map((raw) => [raw, enabled, warns] as const);
const cases = [
  ...readAs(false, false, [undefined, '', 'false', '0']),
  ...readAs(true, false, ['true', '1']),
  ...readAs(true, true, ['TRUE', '(true)', 'off', 'no', 'False ', ' false', '"false"', '"true"', '00', '0.0', 'yes']),
  ...readAs(false, true, ['False', '(false)', 'empty', '(empty)', 'null', '(null)', "'0'", '""']),
];

describe('APP_SAAS_MODE_ENABLED read as Hi.Events reads it', () => {
  it.each(cases)('%j -> %s', (raw, enabled, warns) => {
    const result = readSaasMode(raw);
    expect(result.enabled).toBe(enabled);
    expect(result.warning !== undefined).toBe(warns);
    if (warns) expect(result.warning).toContain(`reads this value as ${enabled}`);
  });
});

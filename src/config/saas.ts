import { laravelEnvValue } from './laravel.js';

/**
 * APP_SAAS_MODE_ENABLED as Hi.Events reads it: `env('APP_SAAS_MODE_ENABLED', false)` with no boolean cast
 * (README, Configuration: APP_SAAS_MODE_ENABLED). Laravel's env() maps true/false/empty/null (with or without parentheses, any case), then
 * strips one pair of surrounding quotes; PHP truthiness then makes '' and '0' false and any other string
 * true. Reading it any other way would make the gate and the backend disagree about SaaS mode.
 */
export function readSaasMode(raw: string | undefined): { enabled: boolean; warning?: string } {
  if (raw === undefined) return { enabled: false };
  const enabled = phpTruthy(laravelEnvValue(raw));
  if (['true', 'false', '1', '0', ''].includes(raw)) return { enabled };
  return {
    enabled,
    warning:
      `APP_SAAS_MODE_ENABLED is not one of true/false/1/0; Hi.Events reads this value as ${enabled}, ` +
      `so the gate does too (set it to ${enabled} to silence this warning)`,
  };
}

function phpTruthy(value: ReturnType<typeof laravelEnvValue>): boolean {
  if (typeof value === 'boolean') return value;
  if (value === null) return false;
  return value !== '' && value !== '0';
}

import { isPlaceholder, keyFingerprint, keyMode, type StripeMode } from '../stripe/keys.js';

export const PLATFORMS = ['default', 'ca', 'ie'] as const;
export type Platform = (typeof PLATFORMS)[number];

export interface PlatformKey {
  /** The variable the secret key was read from (after the backend's fall-back). */
  variable: string;
  secretKey: string;
  fingerprint: string;
  /** The publishable key (not a secret), and its variable; null when empty. */
  publicKey: { variable: string; value: string } | null;
  /** The webhook signing secret, by fingerprint only (the value is never kept); null when empty. */
  webhook: { variable: string; fingerprint: string; placeholder: boolean; shaped: boolean } | null;
}

export interface StripeSettings {
  mode: StripeMode;
  /** Platforms with a secret key; ca and ie fall back to the plain pair as config/services.php does. */
  platforms: Partial<Record<Platform, PlatformKey>>;
}

type Env = Readonly<Record<string, string | undefined>>;

const PREFIX: Record<Platform, string> = { default: 'STRIPE_', ca: 'STRIPE_CA_', ie: 'STRIPE_IE_' };

type Kind = 'SECRET_KEY' | 'PUBLIC_KEY' | 'WEBHOOK_SECRET';

/** A platform's own variable for `kind` (STRIPE_WEBHOOK_SECRET, STRIPE_CA_WEBHOOK_SECRET, ...). */
export function platformVariable(platform: Platform, kind: Kind): string {
  return `${PREFIX[platform]}${kind}`;
}

/** The variable a platform's key is read from: its own when set (even empty), else the plain one. */
function source(env: Env, platform: Platform, kind: Kind): string {
  const own = platformVariable(platform, kind);
  return env[own] !== undefined ? own : `STRIPE_${kind}`;
}

/**
 * The Stripe keys the backend will use, or null when it has none (the gate then skips). Problems name the
 * variable and never its value.
 */
export function readStripeSettings(env: Env, problems: string[], warnings: string[]): StripeSettings | null {
  const platforms: StripeSettings['platforms'] = {};
  const modes = new Map<StripeMode, string>();
  const checked = new Set<string>();
  for (const platform of PLATFORMS) {
    const secretVar = source(env, platform, 'SECRET_KEY');
    const publicVar = source(env, platform, 'PUBLIC_KEY');
    const secretKey = env[secretVar];
    const publicKey = env[publicVar];
    const secret = secretKey ? keyMode(secretKey, 'secret') : null;
    const pub = publicKey ? keyMode(publicKey, 'public') : null;
    // With the fall-back, several platforms share variables: each variable and pair is judged once.
    const firstTime = (name: string) => !checked.has(name) && Boolean(checked.add(name));
    if (secret && 'problem' in secret && firstTime(secretVar)) problems.push(`${secretVar}: ${secret.problem}`);
    if (pub && 'problem' in pub && firstTime(publicVar)) problems.push(`${publicVar}: ${pub.problem}`);
    if (pub && !secret && firstTime(`${publicVar}/${secretVar}`)) {
      warnings.push(`${publicVar} is set but ${secretVar} is not: payments on that platform cannot work`);
    }
    if (secret && 'mode' in secret && pub && 'mode' in pub && pub.mode !== secret.mode && firstTime(`${publicVar}/${secretVar}`)) {
      problems.push(`${publicVar}: is a ${pub.mode} key but ${secretVar} is a ${secret.mode} key; use one mode`);
    }
    if (!secretKey || !secret || 'problem' in secret) continue;
    if (!modes.has(secret.mode)) modes.set(secret.mode, secretVar);
    const webhookVar = source(env, platform, 'WEBHOOK_SECRET');
    const webhookSecret = env[webhookVar];
    platforms[platform] = {
      variable: secretVar,
      secretKey,
      fingerprint: keyFingerprint(secretKey),
      publicKey: publicKey ? { variable: publicVar, value: publicKey } : null,
      webhook: webhookSecret
        ? {
            variable: webhookVar,
            fingerprint: keyFingerprint(webhookSecret),
            placeholder: isPlaceholder(webhookSecret),
            shaped: /^whsec_[A-Za-z0-9]+$/.test(webhookSecret),
          }
        : null,
    };
  }
  if (modes.size > 1) {
    problems.push(`${modes.get('live')}: is a live key but ${modes.get('test')} is a test key; all Stripe keys must be of one mode`);
  }
  const [mode] = modes.keys();
  return mode && modes.size === 1 ? { mode, platforms } : null;
}

/** Values that must never reach a log: every Stripe secret key and webhook secret in the environment. */
export function stripeSecrets(env: Env): string[] {
  return Object.entries(env)
    .filter(([name, value]) => /^STRIPE_(?:(?:CA|IE)_)?(?:SECRET_KEY|WEBHOOK_SECRET)$/.test(name) && value)
    .map(([, value]) => value as string);
}

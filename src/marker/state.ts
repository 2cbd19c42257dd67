import { PLATFORMS, type Platform } from '../config/stripe.js';
import type { Config } from '../config/env.js';
import type { StripeMode } from '../stripe/keys.js';

export interface PlatformIdentity {
  /** acct_ id of the key's Stripe account, when known. */
  accountId: string | null;
  /** SHA-256 (hex) of the secret key, when known. */
  keyFingerprint: string | null;
  /**
   * SHA-256 (hex) of the webhook signing secret the backend had (null: none); absent in markers of gates
   * before 0.1. Not compared: a new webhook secret is no switch. The webhook checklist tells from it whether
   * the secret changed with the mode or account.
   */
  webhookFingerprint?: string | null;
}

/** A Stripe configuration: what the backend is configured with, or what the stored ids were created under. */
export interface StripeState {
  stripeMode: StripeMode;
  saasMode: boolean;
  platforms: Partial<Record<Platform, PlatformIdentity>>;
}

/** The marker: the configuration the database's Stripe ids belong to, and who recorded it when. */
export interface Marker extends StripeState {
  recordedAt: string;
  recordedBy: string;
  /** Seconds since it was recorded, by the database's clock (not shown in output). */
  ageSeconds?: number;
  /**
   * Set by a repair: rows written by transactions from `afterXid` on are checked with Stripe at later starts,
   * until the settle time has passed (a client that still ran with the old keys may write after the commit).
   */
  unchecked?: Unchecked | null;
}

/** The repair whose late writes are still to be checked: its run, and the oldest transaction it could not see end. */
export interface Unchecked {
  run: string;
  afterXid: string;
}

/** The configuration the backend is about to start with; null when it has no Stripe key. */
export function configuredState(config: Config): StripeState | null {
  if (!config.stripe) return null;
  const platforms: StripeState['platforms'] = {};
  for (const [platform, key] of Object.entries(config.stripe.platforms)) {
    platforms[platform as Platform] = { accountId: null, keyFingerprint: key.fingerprint, webhookFingerprint: key.webhook?.fingerprint ?? null };
  }
  return { stripeMode: config.stripe.mode, saasMode: config.saasMode, platforms };
}

/**
 * The marker's platforms with the webhook fingerprints configured now, or null when they are the same: a new
 * webhook secret is no switch, but the marker keeps the one in use (a marker of an older gate learns it).
 */
export function webhookDrift(stored: StripeState, configured: StripeState): StripeState['platforms'] | null {
  let drift = false;
  const platforms = Object.fromEntries(
    Object.entries(stored.platforms).map(([platform, then]) => {
      const now = configured.platforms[platform as Platform]?.webhookFingerprint;
      if (now === undefined || now === then?.webhookFingerprint) return [platform, then];
      drift = true;
      return [platform, { ...then, webhookFingerprint: now }];
    }),
  );
  return drift ? platforms : null;
}

/**
 * For output: platforms in their usual order (jsonb keeps its own), fingerprints shortened so that a reader
 * can compare them without holding the whole hash.
 */
export function displayState<T extends StripeState>(state: T | null): T | null {
  if (!state) return null;
  const platforms = Object.fromEntries(
    PLATFORMS.flatMap((p) => {
      const id = state.platforms[p];
      if (!id) return [];
      const short = (fingerprint: string | null | undefined) => fingerprint?.slice(0, 12) ?? null;
      return [
        [
          p,
          {
            ...id,
            keyFingerprint: short(id.keyFingerprint),
            ...(id.webhookFingerprint !== undefined ? { webhookFingerprint: short(id.webhookFingerprint) } : {}),
          },
        ],
      ];
    }),
  );
  // A marker's age is for deciding, not for showing: it is stale the moment it is printed.
  const { ageSeconds: _age, unchecked: _unchecked, ...shown } = state as T & Pick<Marker, 'ageSeconds' | 'unchecked'>;
  return { ...shown, platforms } as T;
}

import { createHash } from 'node:crypto';

export type StripeMode = 'test' | 'live';
export type KeySlot = 'secret' | 'public';

const SECRET_KEY = /^(?:sk|rk)_(test|live)_[A-Za-z0-9]+$/;
const PUBLIC_KEY = /^pk_(test|live)_[A-Za-z0-9]+$/;

/**
 * The mode of a Stripe key from its prefix, or a sentence saying what is wrong with it.
 * The sentence never contains the value: the caller prefixes the variable name.
 */
export function keyMode(value: string, slot: KeySlot): { mode: StripeMode } | { problem: string } {
  const match = (slot === 'secret' ? SECRET_KEY : PUBLIC_KEY).exec(value);
  if (match) return { mode: match[1] as StripeMode };
  const expected = slot === 'secret' ? 'a secret key (sk_test_, sk_live_, rk_test_ or rk_live_)' : 'a publishable key (pk_test_ or pk_live_)';
  if (value.trim() !== value || /^["']|["']$/.test(value)) {
    return { problem: `has surrounding whitespace or quotes; expected ${expected} alone` };
  }
  if (slot === 'secret' && value.startsWith('pk_')) {
    return { problem: `holds a publishable key; expected ${expected}` };
  }
  if (slot === 'public' && /^(?:sk|rk)_/.test(value)) {
    return { problem: `holds a secret key where the publishable key belongs; expected ${expected}` };
  }
  return { problem: `is not a test or live Stripe key; expected ${expected}` };
}

/** SHA-256 of a secret key, hex: lets the marker recognise a key without storing it. */
export function keyFingerprint(secretKey: string): string {
  return createHash('sha256').update(secretKey).digest('hex');
}

/**
 * Whether a key or webhook secret is a stand-in rather than one Stripe issued: Hi.Events' own example values
 * (sk_test_123456789, pk_test_123456789, whsec_test_123456789) and the like, far shorter than Stripe's.
 */
export function isPlaceholder(value: string): boolean {
  const body = /^(?:(?:sk|rk|pk)_(?:test|live)_|whsec_)(.*)$/.exec(value)?.[1] ?? value;
  return body.length < 20;
}

/** Shapes of Stripe secrets, for scrubbing text that may carry one (webhook secrets too). */
export const STRIPE_SECRET_PATTERN = /\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]+|\bwhsec_[A-Za-z0-9]+/g;

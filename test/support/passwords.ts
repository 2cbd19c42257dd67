// Passwords that a DATABASE_URL breaks on when they are not URL-encoded, for the tests that no part leaks.
import fc from 'fast-check';

/**
 * Secret-looking passwords that break URL parsing: a short run of digits (a port, when it stands first), then
 * separators and letters that no message of the gate holds four in a row of.
 */
export const brokenPassword = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 3 }),
    fc.array(fc.tuple(fc.constantFrom('/', '?', '#', '@', ':', '%'), fc.string({ unit: fc.constantFrom(...'QXZJKVWqxzjkvw'), minLength: 2, maxLength: 8 })), {
      minLength: 1,
      maxLength: 4,
    }),
  )
  .map(([digits, parts]) => digits + parts.map(([sep, text]) => sep + text).join(''))
  .filter((p) => /[/?#@]/.test(p) && p.length >= 6);

/** Every substring of 4 characters. */
export function pieces(secret: string): string[] {
  return Array.from({ length: Math.max(0, secret.length - 3) }, (_, i) => secret.slice(i, i + 4));
}

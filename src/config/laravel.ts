/**
 * Laravel's env() (Illuminate\Support\Env): true/false/empty/null, with or without parentheses and in any
 * case, become true/false/''/null; otherwise one pair of surrounding quotes is stripped. The backend reads
 * every variable through it, so the gate does too, or a quoted DB_PASSWORD would work for one and not the other.
 */
export function laravelEnvValue(raw: string): string | boolean | null {
  switch (raw.toLowerCase()) {
    case 'true':
    case '(true)':
      return true;
    case 'false':
    case '(false)':
      return false;
    case 'empty':
    case '(empty)':
      return '';
    case 'null':
    case '(null)':
      return null;
  }
  const quoted = /^(['"])(.*)\1$/s.exec(raw);
  return quoted ? quoted[2] : raw;
}

/** The backend's variables whose values the gate reads as strings. */
const BACKEND_STRINGS = /^(?:DATABASE_URL|DB_[A-Z]+|STRIPE_(?:(?:CA|IE)_)?(?:SECRET_KEY|PUBLIC_KEY|WEBHOOK_SECRET))$/;

/**
 * The environment as the backend sees its string settings: null (unset, so Laravel's default or fall-back
 * applies) drops the variable, booleans become PHP's string casts ('1' and '').
 */
export function asLaravelSees(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const seen: Record<string, string | undefined> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !BACKEND_STRINGS.test(name)) {
      seen[name] = raw;
      continue;
    }
    const value = laravelEnvValue(raw);
    if (value === null) continue;
    seen[name] = value === true ? '1' : value === false ? '' : value;
  }
  return seen;
}

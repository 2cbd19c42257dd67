import type { Config } from './config/env.js';
import { platformVariable, type Platform, type PlatformKey } from './config/stripe.js';
import { StoppedError } from './errors.js';
import { WEBHOOK_EVENTS, WEBHOOK_ROUTE } from './hievents/webhooks.js';
import type { Logger } from './logging.js';
import type { StripeState } from './marker/state.js';
import { stripeClient, stripeFailure, type StripeBudget, type StripeFailure } from './stripe/api.js';
import { isPlaceholder } from './stripe/keys.js';

/**
 * The rest of a Stripe switch, as a checklist per platform (README, "Preflight"): keys, webhook secret,
 * webhook endpoint, and in SaaS mode what Connect needs, each pass / warn / fail with the fix in words. Only
 * reads: GET /v1/account, GET /v1/webhook_endpoints (every page), GET /v1/accounts, inside the run's budget.
 */
export type ItemStatus = 'pass' | 'warn' | 'fail';

export interface PreflightItem {
  check: 'keys' | 'key-accepted' | 'webhook-secret' | 'webhook-endpoint' | 'connect-platform' | 'connect-events';
  status: ItemStatus;
  /** What was found, in words. */
  says: string;
  /** What to do, for a warning or a failure. */
  fix?: string;
}

export interface Preflight {
  platforms: { platform: Platform; items: PreflightItem[] }[];
  failures: number;
  warnings: number;
}

interface Endpoint {
  id: string;
  url: string;
  status: string;
  enabled_events: string[];
}

/** At most this many pages of 100 webhook endpoints are read (Stripe allows 16 endpoints per account and mode). */
const MAX_PAGES = 10;
/** Hosts Stripe cannot send events to: loopback, private networks, Docker's and mDNS names. */
const UNREACHABLE_HOST =
  /^(localhost|127\.[\d.]+|0\.0\.0\.0|\[::1?\]|10\.[\d.]+|192\.168\.[\d.]+|172\.(1[6-9]|2\d|3[01])\.[\d.]+|host\.docker\.internal|.*\.(local|internal|localhost))\.?$/i;

export async function preflight(config: Config, stored: StripeState | null, configured: StripeState, budget: StripeBudget, log: Logger): Promise<Preflight> {
  const seen = new Set<string>();
  const platforms: Preflight['platforms'] = [];
  for (const [platform, key] of Object.entries(config.stripe?.platforms ?? {}) as [Platform, PlatformKey][]) {
    // CA and IE fall back to the plain keys: the same keys are checked once.
    if (seen.has(key.variable)) continue;
    seen.add(key.variable);
    const items = await checkPlatform(config, platform, key, stored, configured, budget);
    for (const item of items) {
      if (item.status !== 'pass')
        log.warn({ platform, check: item.check, status: item.status }, `preflight ${item.check}: ${item.says}${item.fix ? `; ${item.fix}` : ''}`);
    }
    platforms.push({ platform, items });
  }
  const all = platforms.flatMap((p) => p.items);
  return { platforms, failures: all.filter((i) => i.status === 'fail').length, warnings: all.filter((i) => i.status === 'warn').length };
}

async function checkPlatform(
  config: Config,
  platform: Platform,
  key: PlatformKey,
  stored: StripeState | null,
  configured: StripeState,
  budget: StripeBudget,
): Promise<PreflightItem[]> {
  const mode = configured.stripeMode;
  const accountId = configured.platforms[platform]?.accountId ?? null;
  const api = config.gate.stripeApi !== 'off' ? await stripeClient(key.secretKey, config.gate.stripeApiUrl, budget) : null;
  const ask = async <T>(path: string, call: () => Promise<T>): Promise<{ ok: T } | { failed: StripeFailure }> => {
    try {
      return { ok: await budget.run(call) };
    } catch (error) {
      if (error instanceof StoppedError) throw error;
      return { failed: stripeFailure(error, path) };
    }
  };
  const items = [keysItem(key, mode)];
  // An account the marker already held for this key was reused without asking: Stripe may reject the key since.
  const then = stored?.platforms[platform];
  const askedNow = accountId !== null && !(then?.keyFingerprint === key.fingerprint && then.accountId === accountId);
  if (!api) items.push(notChecked('key-accepted'));
  else if (askedNow) items.push({ check: 'key-accepted', status: 'pass', says: `${key.variable} is accepted by Stripe (account ${accountId})` });
  else {
    const answer = await ask('GET /v1/account', () => api.accounts.retrieveCurrent());
    items.push(
      'ok' in answer
        ? { check: 'key-accepted', status: 'pass', says: `${key.variable} is accepted by Stripe (account ${answer.ok.id})` }
        : refusal('key-accepted', key, answer.failed),
    );
  }
  items.push(sharedSecretItem(config, key, platform, configured) ?? webhookSecretItem(key, platform, mode, stored, configured));
  if (!api) items.push(notChecked('webhook-endpoint'));
  else {
    const listed = await ask('GET /v1/webhook_endpoints', () => listEndpoints(api));
    items.push('ok' in listed ? endpointItem(listed.ok, config.publicApiUrl, mode, accountId) : refusal('webhook-endpoint', key, listed.failed));
  }
  if (configured.saasMode) {
    if (!api) items.push(notChecked('connect-platform'));
    else {
      const listed = await ask('GET /v1/accounts', () => api.accounts.list({ limit: 1 }));
      items.push(connectItem(listed, key, mode));
    }
    items.push({
      check: 'connect-events',
      status: 'warn',
      says: "Stripe's API does not show whether an endpoint receives connected accounts' events",
      fix: `make sure an endpoint for ${WEBHOOK_ROUTE} listens to events on connected accounts (Stripe Dashboard, Webhooks), with account.updated among them`,
    });
  }
  return items;
}

/**
 * Whether the platform can use Connect, as far as GET /v1/accounts shows it: Stripe lists no account for an
 * account that is no platform, and none either for a platform whose organizers have not connected yet.
 */
function connectItem(listed: { ok: { data: unknown[] } } | { failed: StripeFailure }, key: PlatformKey, mode: string): PreflightItem {
  const activate = `SaaS mode needs Connect: activate it for this account in ${mode} mode (Stripe Dashboard, Connect)`;
  if ('ok' in listed) {
    return listed.ok.data.length > 0
      ? { check: 'connect-platform', status: 'pass', says: 'the platform account has connected accounts: Connect is on' }
      : {
          check: 'connect-platform',
          status: 'warn',
          says: `the account lists no connected account in ${mode} mode: either Connect is not activated, or no organizer connected yet`,
          fix: activate,
        };
  }
  if (listed.failed.kind === 'refused') {
    return { check: 'connect-platform', status: 'fail', says: `Stripe will not list this account's connected accounts: ${listed.failed.words}`, fix: activate };
  }
  return refusal('connect-platform', key, listed.failed);
}

function keysItem(key: PlatformKey, mode: string): PreflightItem {
  const secretVar = key.variable;
  if (isPlaceholder(key.secretKey)) {
    return {
      check: 'keys',
      status: 'fail',
      says: `${secretVar} is a placeholder (like Hi.Events' example sk_test_123456789), not a key Stripe issued: no payment can work`,
      fix: `put the ${mode} secret key from the Stripe Dashboard (Developers, API keys) in ${secretVar}`,
    };
  }
  if (!key.publicKey) {
    return {
      check: 'keys',
      status: 'fail',
      says: `the publishable key of ${secretVar} is empty: checkout cannot load Stripe`,
      fix: `set the ${mode} publishable key`,
    };
  }
  if (isPlaceholder(key.publicKey.value)) {
    return {
      check: 'keys',
      status: 'fail',
      says: `${key.publicKey.variable} is a placeholder (like Hi.Events' example pk_test_123456789)`,
      fix: `put the ${mode} publishable key from the Stripe Dashboard in ${key.publicKey.variable}`,
    };
  }
  return { check: 'keys', status: 'pass', says: `${secretVar} and ${key.publicKey.variable} are ${mode} keys` };
}

/**
 * A platform with a key of its own whose webhook secret falls back to the default platform's: Hi.Events tries
 * each configured secret, so one secret for two accounts' endpoints fails the events of one of them.
 */
function sharedSecretItem(config: Config, key: PlatformKey, platform: Platform, configured: StripeState): PreflightItem | null {
  const main = config.stripe?.platforms.default;
  if (platform === 'default' || !main || !key.webhook || key.variable === main.variable || key.webhook.variable !== main.webhook?.variable) return null;
  const own = platformVariable(platform, 'WEBHOOK_SECRET');
  const [mine, theirs] = [configured.platforms[platform]?.accountId, configured.platforms.default?.accountId];
  if (mine && theirs && mine === theirs) return null;
  const says = `${own} is not set, so ${key.variable} shares ${key.webhook.variable} with the default platform`;
  const fix = `put the signing secret of the endpoint of ${key.variable}'s account in ${own}`;
  if (mine && theirs) {
    return {
      check: 'webhook-secret',
      status: 'fail',
      says: `${says}, but its account ${mine} is not ${theirs}: one of them fails every event's signature check`,
      fix,
    };
  }
  return { check: 'webhook-secret', status: 'warn', says: `${says}; whether both keys belong to one account is unknown`, fix };
}

function webhookSecretItem(key: PlatformKey, platform: Platform, mode: string, stored: StripeState | null, configured: StripeState): PreflightItem {
  const variable = key.webhook?.variable ?? platformVariable(platform, 'WEBHOOK_SECRET');
  const failing = (says: string): PreflightItem => ({
    check: 'webhook-secret',
    status: 'fail',
    says: `${says}: Hi.Events rejects every Stripe event, so paid orders stay AWAITING_PAYMENT`,
    fix: `put the signing secret (whsec_...) of the ${mode}-mode webhook endpoint in ${variable}`,
  });
  if (!key.webhook) return failing(`${variable} is empty`);
  if (key.webhook.placeholder) return failing(`${variable} is a placeholder (like Hi.Events' example whsec_test_123456789)`);
  if (!key.webhook.shaped) return failing(`${variable} is not a webhook signing secret (whsec_...)`);
  const then = stored?.platforms[platform];
  const now = configured.platforms[platform];
  const modeChanged = stored !== null && stored.stripeMode !== mode;
  const accountChanged = Boolean(then?.accountId && now?.accountId && then.accountId !== now.accountId);
  if (!modeChanged && !accountChanged) return { check: 'webhook-secret', status: 'pass', says: `${variable} is set` };
  const from = modeChanged ? `${stored.stripeMode} mode` : `account ${then?.accountId}`;
  if (then?.webhookFingerprint === undefined) {
    return {
      check: 'webhook-secret',
      status: 'warn',
      says: `the marker does not know the webhook secret of the ${from} configuration, so whether ${variable} changed with it is unknown`,
      fix: `make sure ${variable} is the signing secret of the ${mode}-mode endpoint${accountChanged ? ` of account ${now?.accountId}` : ''}`,
    };
  }
  if (then.webhookFingerprint === key.webhook.fingerprint) return failing(`${variable} is unchanged since the ${from} configuration`);
  return { check: 'webhook-secret', status: 'pass', says: `${variable} is set, and changed since the ${from} configuration` };
}

async function listEndpoints(api: Awaited<ReturnType<typeof stripeClient>>): Promise<Endpoint[]> {
  const endpoints: Endpoint[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await api.webhookEndpoints.list({ limit: 100, ...(after ? { starting_after: after } : {}) });
    endpoints.push(...list.data);
    if (!list.has_more || list.data.length === 0) break;
    after = list.data.at(-1)!.id;
  }
  return endpoints;
}

/** The enabled endpoint for Hi.Events' route (at the public API URL's host, when one is set) with every event it handles. */
function endpointItem(endpoints: Endpoint[], publicApiUrl: string | null, mode: string, accountId: string | null): PreflightItem {
  const publicUrl = publicApiUrl ? new URL(publicApiUrl) : null;
  // Where the backend listens: the public API URL's host and path (its API base) when Stripe can reach it.
  const expected =
    publicUrl && !UNREACHABLE_HOST.test(publicUrl.hostname)
      ? { host: publicUrl.host, path: `${publicUrl.pathname.replace(/\/+$/, '')}${WEBHOOK_ROUTE}` }
      : null;
  const where = `in ${mode} mode${accountId ? ` of account ${accountId}` : ''}`;
  const route = expected ? `${publicUrl!.protocol}//${expected.host}${expected.path}` : `<public API URL>${WEBHOOK_ROUTE}`;
  const forRoute = endpoints.filter((e) => {
    const url = URL.canParse(e.url) ? new URL(e.url) : null;
    const path = url?.pathname.replace(/\/+$/, '') ?? '';
    return expected ? url?.host === expected.host && path === expected.path : path.endsWith(WEBHOOK_ROUTE);
  });
  const addIt = `add an endpoint ${route} ${where} (Stripe Dashboard, Webhooks) for the events ${WEBHOOK_EVENTS.join(', ')}, and put its signing secret in the webhook secret variable`;
  const local = publicUrl && !expected ? ' (VITE_API_URL_CLIENT is a local or private address, which Stripe cannot reach: hosts not compared)' : '';
  if (forRoute.length === 0) {
    // In test mode events often come through `stripe listen`, which needs no endpoint.
    if (mode === 'test') {
      return {
        check: 'webhook-endpoint',
        status: 'warn',
        says: `no webhook endpoint ${where} points at ${route}${local}; fine only while \`stripe listen\` forwards the events`,
        fix: addIt,
      };
    }
    return { check: 'webhook-endpoint', status: 'fail', says: `no webhook endpoint ${where} points at ${route}${local}`, fix: addIt };
  }
  const enabled = forRoute.filter((e) => e.status === 'enabled');
  if (enabled.length === 0) {
    return {
      check: 'webhook-endpoint',
      status: 'fail',
      says: `the webhook endpoint ${forRoute.map((e) => e.id).join(', ')} for ${route} is disabled${local}`,
      fix: 'enable it (Stripe Dashboard, Webhooks), or add a new one',
    };
  }
  const missingOf = (e: Endpoint) => (e.enabled_events.includes('*') ? [] : WEBHOOK_EVENTS.filter((event) => !e.enabled_events.includes(event)));
  const [best] = [...enabled].sort((a, b) => missingOf(a).length - missingOf(b).length);
  const missing = missingOf(best);
  if (missing.length > 0) {
    return {
      check: 'webhook-endpoint',
      status: 'fail',
      says: `the webhook endpoint ${best.id} (${best.url}) misses events Hi.Events handles: ${missing.join(', ')}${local}`,
      fix: `add ${missing.join(', ')} to its events (Stripe Dashboard, Webhooks)`,
    };
  }
  return {
    check: 'webhook-endpoint',
    status: 'pass',
    says: `the webhook endpoint ${best.id} (${best.url}) is enabled ${where} with every event Hi.Events handles${local}`,
  };
}

function notChecked(check: PreflightItem['check']): PreflightItem {
  return { check, status: 'warn', says: 'not checked: STRIPE_GATE_STRIPE_API=off', fix: 'let the gate ask Stripe (STRIPE_GATE_STRIPE_API=auto) to check it' };
}

/** An item Stripe would not answer for: a warning that says why, unless the key itself was refused. */
function refusal(check: PreflightItem['check'], key: PlatformKey, failed: StripeFailure): PreflightItem {
  if (failed.kind === 'rejected') {
    return {
      check,
      status: check === 'key-accepted' ? 'fail' : 'warn',
      says: `${key.variable}: ${failed.words}`,
      fix: `put a ${key.secretKey.includes('_live_') ? 'live' : 'test'} secret key Stripe accepts in ${key.variable}`,
    };
  }
  if (failed.kind === 'forbidden') {
    return {
      check,
      status: 'warn',
      says: `not checked: ${failed.words}`,
      fix: 'give the restricted key read access to it, or check it in the Stripe Dashboard',
    };
  }
  return { check, status: 'warn', says: `not checked: ${failed.words}`, fix: 'run `stripe-mode-gate preflight` again once Stripe answers' };
}

// A local HTTP server speaking the parts of Stripe's API the gate uses, with Stripe's response and error
// shapes: GET /v1/account, /v1/customers/:id (also inside a connected account, Stripe-Account header),
// /v1/accounts/:id, the lists /v1/webhook_endpoints and /v1/accounts (paginated with limit and
// starting_after). It maps keys to accounts, knows which objects exist in which account and mode, can be
// made slow or failing, and counts requests.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closedWithTest } from './teardown.js';

type Mode = 'test' | 'live';

export interface StripeWorld {
  /** secret key -> the account it belongs to (its mode comes from its prefix). */
  keys: Record<string, string>;
  /** customer id -> where it exists: the account (platform or connected) and mode. */
  customers?: Record<string, { account: string; mode: Mode }>;
  /** connected account id -> the platform account that created it, and its mode. */
  connected?: Record<string, { platform: string; mode: Mode }>;
  /** Served under this path prefix only, as behind a proxy (e.g. /stripe). */
  prefix?: string;
  /** account -> its webhook endpoints per mode, newest first as Stripe lists them. */
  webhooks?: Record<string, Partial<Record<Mode, FakeEndpoint[]>>>;
  /** Restricted keys (rk_) -> the paths they may not call (403, Stripe's permission error). */
  denied?: Record<string, string[]>;
  /** path -> the message of a 400 invalid_request_error Stripe answers it with, for every key. */
  refused?: Record<string, string>;
  /** The most a list page holds, whatever `limit` asks (Stripe: 100); smaller to test pagination. */
  pageSize?: number;
}

/** A webhook endpoint as a test describes it; served in the full shape of Stripe's webhook_endpoint object. */
export interface FakeEndpoint {
  id: string;
  url: string;
  enabled_events: string[];
  status?: 'enabled' | 'disabled';
}

export interface FakeStripe {
  url: string;
  /** Every request: path, and the key's last 4 characters (never the key). */
  requests: { path: string; key: string; stripeAccount?: string }[];
  /** Requests received, answered or not yet (a delayed answer is counted in `requests` once given). */
  arrived(): number;
  behave(b: { failWith?: number; delayMs?: number }): void;
  close(): Promise<void>;
}

const modeOf = (key: string): Mode => (/_live_/.test(key) ? 'live' : 'test');
const masked = (key: string) => `${key.slice(0, 8)}****${key.slice(-4)}`;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake${Date.now()}` });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, type: string, message: string, code?: string): void {
  send(res, status, { error: { type, message, ...(code ? { code, param: 'id' } : {}) } });
}

function noAccess(res: ServerResponse, key: string, account: string): void {
  const message = `The provided key '${masked(key)}' does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`;
  error(res, 403, 'invalid_request_error', message, 'account_invalid');
}

/** One page of a Stripe list: `limit` (default 10, at most 100, or the world's page size) after `starting_after`. */
function page<T extends { id: string }>(all: T[], query: URLSearchParams, url: string, pageSize = 100) {
  const after = query.get('starting_after');
  const from = after ? all.findIndex((o) => o.id === after) + 1 : 0;
  const limit = Math.min(Number(query.get('limit') ?? 10), 100, pageSize);
  const data = all.slice(from, from + limit);
  return { object: 'list', url, has_more: from + limit < all.length, data };
}

function otherMode(mode: Mode): Mode {
  return mode === 'test' ? 'live' : 'test';
}

/** A fake Stripe serving `world`; closed when the test that started it finishes, or by close(). */
export async function startFakeStripe(world: StripeWorld): Promise<FakeStripe> {
  const requests: FakeStripe['requests'] = [];
  let behaviour: { failWith?: number; delayMs?: number } = {};
  let arrived = 0;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const stripeAccount = req.headers['stripe-account'] as string | undefined;
    const [full, search = ''] = (req.url ?? '').split('?');
    const query = new URLSearchParams(search);
    const path = world.prefix ? (full.startsWith(`${world.prefix}/`) ? full.slice(world.prefix.length) : `(outside ${world.prefix})${full}`) : full;
    requests.push({ path, key: key.slice(-4), ...(stripeAccount ? { stripeAccount } : {}) });
    if (behaviour.failWith) return error(res, behaviour.failWith, 'api_error', 'An unknown error occurred');
    const account = world.keys[key];
    if (!account) return error(res, 401, 'invalid_request_error', `Invalid API Key provided: ${masked(key)}`);
    const mode = modeOf(key);

    if (world.refused?.[path]) return error(res, 400, 'invalid_request_error', world.refused[path]);
    if (world.denied?.[key]?.includes(path)) {
      const message = `The provided key '${masked(key)}' does not have the required permissions for this endpoint on account '${account}'.`;
      return error(res, 403, 'invalid_request_error', message);
    }
    if (path === '/v1/account') return send(res, 200, { id: account, object: 'account', livemode: mode === 'live' });
    if (path === '/v1/webhook_endpoints' && !stripeAccount) {
      const endpoints = (world.webhooks?.[account]?.[mode] ?? []).map((e) => ({
        id: e.id,
        object: 'webhook_endpoint',
        api_version: null,
        application: null,
        created: 1_700_000_000,
        description: null,
        enabled_events: e.enabled_events,
        livemode: mode === 'live',
        metadata: {},
        status: e.status ?? 'enabled',
        url: e.url,
      }));
      return send(res, 200, page(endpoints, query, '/v1/webhook_endpoints', world.pageSize));
    }
    if (path === '/v1/accounts' && !stripeAccount) {
      // As Stripe documents it: an account that is no platform lists no connected account.
      const accounts = Object.entries(world.connected ?? {})
        .filter(([, c]) => c.platform === account && c.mode === mode)
        .map(([id]) => ({ id, object: 'account', livemode: mode === 'live' }));
      return send(res, 200, page(accounts, query, '/v1/accounts', world.pageSize));
    }
    if (stripeAccount && world.connected?.[stripeAccount]?.platform !== account) return noAccess(res, key, stripeAccount);

    const customer = /^\/v1\/customers\/([^/]+)$/.exec(path);
    if (customer) {
      const id = decodeURIComponent(customer[1]);
      const found = world.customers?.[id];
      const context = stripeAccount ?? account;
      if (found && found.account === context && found.mode === mode) return send(res, 200, { id, object: 'customer', livemode: mode === 'live' });
      const hint =
        found && found.account === context && found.mode !== mode
          ? `; a similar object exists in ${found.mode} mode, but a ${mode} mode key was used to make this request.`
          : '';
      return error(res, 404, 'invalid_request_error', `No such customer: '${id}'${hint}`, 'resource_missing');
    }

    const connected = /^\/v1\/accounts\/([^/]+)$/.exec(path);
    if (connected) {
      const id = decodeURIComponent(connected[1]);
      const found = world.connected?.[id];
      if (found && found.platform === account && found.mode === mode) return send(res, 200, { id, object: 'account', livemode: mode === 'live' });
      if (found && found.platform === account) {
        const was = otherMode(mode);
        return error(
          res,
          400,
          'invalid_request_error',
          `The account ${id} was a ${was} account created with a ${was}mode key, and therefore can only be used with ${was}mode keys.`,
        );
      }
      return noAccess(res, key, id);
    }
    return error(res, 404, 'invalid_request_error', `Unrecognized request URL (GET: ${path}).`);
  };

  const server = createServer((req, res) => {
    arrived++;
    const delay = behaviour.delayMs ?? 0;
    if (delay > 0) setTimeout(() => handle(req, res), delay).unref();
    else handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    arrived: () => arrived,
    behave: (b) => {
      behaviour = b;
    },
    close: closedWithTest(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  };
}

// What Hi.Events expects of Stripe's webhooks (docs/hievents.md, "Webhooks"): data only.

/** The backend's route for Stripe's events, under its API base (`/api` on the all-in-one image). */
export const WEBHOOK_ROUTE = '/public/webhooks/stripe';

/** The events the backend handles; an endpoint must be subscribed to each of them, or to all (`*`). */
export const WEBHOOK_EVENTS = [
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'account.updated',
  'refund.updated',
  'charge.succeeded',
  'charge.updated',
  'payout.paid',
  'payout.updated',
] as const;

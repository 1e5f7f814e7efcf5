// The providers' own code, driven by internal/provider/sdk_test.go: reads a
// JSON array of cases on stdin, answers a JSON array of results on stdout.
//   {op: "verify", provider, secret, body, headers, now, public_key, url}  -> {ok, error}
//   {op: "sign", provider, secret, body, id, timestamp} -> {headers}
// Each provider's verifier is the one its docs tell receivers to use.
'use strict';

const verifiers = {
  async stripe(c) {
    const stripe = require('stripe')('sk_test_unused');
    stripe.webhooks.constructEvent(c.body, c.headers['Stripe-Signature'], c.secret);
  },
  async svix(c) {
    const { Webhook } = require('svix');
    new Webhook(c.secret).verify(c.body, lower(c.headers));
  },
  async resend(c) { return verifiers.svix(c); },
  async standard(c) {
    const { Webhook } = require('standardwebhooks');
    new Webhook(c.secret.replace(/^whsec_/, '')).verify(c.body, lower(c.headers));
  },
  async github(c) {
    const { verify } = await import('@octokit/webhooks-methods');
    if (!(await verify(c.secret, c.body, c.headers['X-Hub-Signature-256'] || ''))) throw new Error('signature does not match');
  },
  async paddle(c) {
    const { Paddle } = require('@paddle/paddle-node-sdk');
    const paddle = new Paddle('pdl_sdbx_apikey_unused', { logLevel: 'none' });
    // unmarshal, as Paddle's docs show: the signature, then the event parsed.
    await paddle.webhooks.unmarshal(c.body, c.secret, c.headers['Paddle-Signature'] || '');
  },
};

verifiers.discord = async (c) => {
  const { verifyKey } = require('discord-interactions');
  if (!(await verifyKey(c.body, c.headers['X-Signature-Ed25519'] || '', c.headers['X-Signature-Timestamp'] || '', c.public_key))) throw new Error('signature does not match');
};

verifiers.shopify = async (c) => {
  require('@shopify/shopify-api/adapters/node');
  const { shopifyApi, ApiVersion } = require('@shopify/shopify-api');
  const shopify = shopifyApi({ apiKey: 'unused', apiSecretKey: c.secret, scopes: [], hostName: 'localhost', apiVersion: ApiVersion.October24, isEmbeddedApp: false, logger: { level: 0 } });
  const r = await shopify.webhooks.validate({ rawBody: c.body, rawRequest: { headers: lower(c.headers), method: 'POST', url: '/webhooks/shopify' }, rawResponse: {} });
  if (!r.valid) throw new Error('not valid: ' + r.reason + ' ' + JSON.stringify(r.missingHeaders || []));
};
verifiers.slack = async (c) => {
  const { verifySlackRequest } = require('@slack/bolt');
  verifySlackRequest({ signingSecret: c.secret, body: c.body, headers: lower(c.headers) });
};
verifiers.linear = async (c) => {
  const { LinearWebhookClient } = await import('@linear/sdk/webhooks');
  new LinearWebhookClient(c.secret).verify(Buffer.from(c.body), c.headers['Linear-Signature'] || '');
};

verifiers.twilio = async (c) => {
  const twilio = require('twilio');
  const params = Object.fromEntries(new URLSearchParams(c.body));
  if (!twilio.validateRequest(c.secret, c.headers['X-Twilio-Signature'] || '', c.url, params)) throw new Error('signature does not match');
};

const signers = {
  async stripe(c) {
    const stripe = require('stripe')('sk_test_unused');
    return { 'Stripe-Signature': stripe.webhooks.generateTestHeaderString({ payload: c.body, secret: c.secret, timestamp: c.timestamp }) };
  },
  async svix(c) {
    const { Webhook } = require('svix');
    return { 'svix-id': c.id, 'svix-timestamp': String(c.timestamp), 'svix-signature': new Webhook(c.secret).sign(c.id, new Date(c.timestamp * 1000), c.body) };
  },
  async resend(c) { return signers.svix(c); },
  async standard(c) {
    const { Webhook } = require('standardwebhooks');
    return { 'webhook-id': c.id, 'webhook-timestamp': String(c.timestamp), 'webhook-signature': new Webhook(c.secret.replace(/^whsec_/, '')).sign(c.id, new Date(c.timestamp * 1000), c.body) };
  },
  async twilio(c) {
    const twilio = require('twilio');
    return { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(c.secret, c.url, Object.fromEntries(new URLSearchParams(c.body))) };
  },
  async github(c) {
    const { sign } = await import('@octokit/webhooks-methods');
    return { 'X-Hub-Signature-256': await sign(c.secret, c.body) };
  },
};

function lower(h) {
  const out = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

async function run(c) {
  // The verifiers read the clock to check the timestamp's window: they see
  // the time the case was signed at, so a slow machine cannot fail a case.
  const RealDate = globalThis.Date;
  if (c.now) {
    globalThis.Date = class extends RealDate {
      constructor(...a) { if (a.length === 0) super(c.now); else super(...a); }
      static now() { return c.now; }
    };
  }
  try {
    if (c.op === 'verify') {
      const v = verifiers[c.provider];
      if (!v) return { error: 'no verifier for ' + c.provider };
      await v(c);
      return { ok: true };
    }
    const s = signers[c.provider];
    if (!s) return { error: 'no signer for ' + c.provider };
    return { headers: await s(c) };
  } catch (e) {
    return { ok: false, error: String(e && e.message || e) };
  } finally {
    globalThis.Date = RealDate;
  }
}

let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const out = [];
  for (const c of JSON.parse(input)) out.push(await run(c));
  process.stdout.write(JSON.stringify(out));
});

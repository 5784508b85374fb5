// A real OpenID Connect provider for Moth's single sign-on tests: the certified `oidc-provider`
// package, on 127.0.0.1 at a free port, with what a test needs around it and nothing faked inside:
//
// - clients register themselves (dynamic client registration, `POST /reg`);
// - `POST /test/accounts` sets an account: `{ "sub", "email", "email_verified", "disabled" }`;
// - the sign-in page (`/interaction/:uid`) is a plain form: a username; a disabled account is
//   refused (`access_denied`), as a company's provider refuses a leaver;
// - `POST /test/fault` makes the *next* token answer carry a bad ID token, re-signed so that only the
//   one fault is wrong: `wrong_key` (signed by another key under the same key id), `wrong_audience`,
//   `expired`, `wrong_nonce`, `wrong_issuer`.
//
// Prints one line, `{"issuer": "http://127.0.0.1:PORT"}`, once it answers.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const accounts = new Map();
let nextFault = null;

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const { privateKey: strangerKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'moth-test-key', alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(process.env.PORT || 0), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomUUID()] },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
  },
  pkce: { required: () => true },
  // The email claims in the ID token itself, as the common providers put them (Moth reads the ID
  // token, not the userinfo endpoint).
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  scopes: ['openid', 'email', 'offline_access'],
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: account.email, email_verified: account.email_verified === true };
      },
    };
  },
  // Every client is first-party here: a grant of what it asked for, without a consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email');
    await grant.save();
    return grant;
  },
});

// The fault of the next token answer: the ID token is taken apart and signed again with one thing wrong.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || !nextFault || !ctx.body || !ctx.body.id_token) return;
  const fault = nextFault;
  nextFault = null;
  const claims = jose.decodeJwt(ctx.body.id_token);
  const now = Math.floor(Date.now() / 1000);
  if (fault === 'wrong_audience') claims.aud = 'a-client-of-someone-else';
  if (fault === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  if (fault === 'wrong_nonce') claims.nonce = 'a-nonce-moth-never-sent';
  if (fault === 'wrong_issuer') claims.iss = 'http://127.0.0.1:1';
  const key = fault === 'wrong_key' ? strangerKey : privateKey;
  ctx.body = { ...ctx.body, id_token: await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'moth-test-key' }).sign(key) };
});

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'POST' && action === 'login') {
    const login = new URLSearchParams(await body(req)).get('login') || '';
    const account = accounts.get(login);
    const result = !account || account.disabled
      ? { error: 'access_denied', error_description: 'This account cannot sign in.' }
      : { login: { accountId: login } };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><html lang="en"><head><title>Test identity provider</title></head><body><main>
<h1>Test identity provider</h1>
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Username <input name="login" autocomplete="username"></label>
<button type="submit">Continue</button>
</form></main></body></html>`);
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    const route = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login))?$/);
    if (route) return await interaction(req, res, route[1], route[2]);
    if (req.method === 'POST' && url.pathname === '/test/accounts') {
      const account = JSON.parse(await body(req));
      accounts.set(account.sub, account);
      res.statusCode = 204;
      return res.end();
    }
    if (req.method === 'POST' && url.pathname === '/test/fault') {
      nextFault = JSON.parse(await body(req)).fault || null;
      res.statusCode = 204;
      return res.end();
    }
    return callback(req, res);
  } catch (error) {
    res.statusCode = 500;
    res.end(String(error && error.message));
  }
});

// The test that started this provider holds its standard input: when the test ends, however it
// ends, the pipe closes and the provider goes with it.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();

process.stdout.write(`${JSON.stringify({ issuer })}\n`);

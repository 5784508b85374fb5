// Single sign-on as a team uses it: the OWNER configures the team's OpenID Connect provider (a real
// one, server/tests/oidc-provider, started here) on the members page, and a new person signs in
// through it from the team's sign-in page and lands in the team with the configured role.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { expect, test } from '@playwright/test';
import { api, expectAccessible, newAccount, ready, signUp, uniqueEmail } from './helpers';

let provider: ChildProcess;
let issuer: string;

test.beforeAll(async () => {
  provider = spawn('node', ['provider.mjs'], {
    cwd: '../server/tests/oidc-provider',
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: provider.stdout! });
  issuer = await new Promise<string>((resolve) => lines.once('line', (line) => resolve(JSON.parse(line).issuer)));
  lines.on('line', () => {});
});

test.afterAll(() => {
  provider.kill();
});

test('an owner configures the provider and a new member signs in through it with the configured role', async ({
  page,
  browser,
  baseURL,
}) => {
  const registered = await (
    await fetch(`${issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: [`${baseURL}/sso/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      }),
    })
  ).json();

  await signUp(page, newAccount('sso-owner'));
  await page.goto('/members');
  await ready(page);
  const section = page.getByRole('region', { name: 'Single sign-on' });
  await section.getByLabel('Issuer').fill(issuer);
  await section.getByLabel('Button name').fill('Corp ID');
  await section.getByLabel('Client id').fill(registered.client_id);
  await section.getByLabel('Client secret').fill(registered.client_secret);
  await section.getByLabel('Role of newcomers').selectOption('GUEST');
  await section.getByRole('button', { name: 'Save single sign-on' }).click();
  await expect(section.getByText(`${baseURL}/sso/callback`)).toBeVisible();
  await expectAccessible(page);
  const signInUrl = await section.getByRole('link', { name: /\/signin\?team=/ }).getAttribute('href');
  const teamId = new URL(signInUrl!).searchParams.get('team');

  const email = uniqueEmail('newcomer');
  const username = `newcomer-${Date.now()}`;
  const account = await fetch(`${issuer}/test/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub: username, email, email_verified: true }),
  });
  expect(account.status).toBe(204);

  const context = await browser.newContext();
  const newcomer = await context.newPage();
  await newcomer.goto(signInUrl!);
  await ready(newcomer);
  await expectAccessible(newcomer);
  await newcomer.getByRole('link', { name: 'Sign in with Corp ID' }).click();
  await expect(newcomer.getByRole('heading', { name: 'Test identity provider' })).toBeVisible();
  await newcomer.getByLabel('Username').fill(username);
  await newcomer.getByRole('button', { name: 'Continue' }).click();
  await expect(newcomer.getByRole('button', { name: 'Sign out' })).toBeVisible();
  const me = await api(newcomer, 'who_am_i', {});
  expect(me.user.email).toBe(email);
  expect(me.team.id).toBe(teamId);
  expect(me.team.role).toBe('GUEST');
  await context.close();
});

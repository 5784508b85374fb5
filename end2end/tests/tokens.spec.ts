// Access tokens as a user makes one for a CI job: named and scoped on the Account page, the secret
// shown once and copied, the token working against the REST API, then revoked and refused.
import { expect, test } from '@playwright/test';
import { expectAccessible, newAccount, ready, signUp } from './helpers';

test('a user creates a token, copies it once, sees it listed, and revokes it', async ({ page, context, playwright }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const account = newAccount('tokens');
  await signUp(page, account);
  await page.getByRole('link', { name: 'Account' }).click();
  await ready(page);
  const section = page.getByRole('region', { name: 'Access tokens' });
  await expect(section.getByText('No tokens yet.')).toBeVisible();

  // A blank name is refused on the field; nothing is made.
  await section.getByRole('button', { name: 'Create token' }).click();
  await expect(section.getByLabel('Token name')).toHaveAttribute('aria-invalid', 'true');
  await expect(section.getByText('No tokens yet.')).toBeVisible();

  await section.getByLabel('Token name').fill('CI nightly');
  await section.getByLabel(/^write:/).check();
  await section.getByLabel('Expires in (days, at most 365)').fill('30');
  await section.getByRole('button', { name: 'Create token' }).click();
  const secretField = section.getByLabel('Your new token “CI nightly”');
  await expect(secretField).toHaveValue(/^moth_pat_[0-9A-Za-z]{49}$/);
  const secret = await secretField.inputValue();
  await section.getByRole('button', { name: 'Copy token' }).click();
  await expect(section.getByText('Copied.')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  const row = section.getByRole('row', { name: /CI nightly/ });
  await expect(row).toContainText('read, write');
  await expect(row).toContainText('never');
  await expectAccessible(page);

  // The token works from a client with no cookies, as a CI job's would.
  const ci = await playwright.request.newContext({ baseURL: new URL(page.url()).origin });
  const me = await ci.get('/api/v1/user', { headers: { Authorization: `Bearer ${secret}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).user.email).toBe(account.email);

  // Shown once: after a reload the list has it, with its use, and the secret is gone.
  await page.reload();
  await ready(page);
  await expect(section.getByRole('row', { name: /CI nightly/ })).toContainText('from 127.0.0.1');
  await expect(section.getByLabel('Your new token “CI nightly”')).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);

  // Revoke asks once; then the token is refused.
  await section.getByRole('button', { name: 'Revoke CI nightly' }).click();
  await section.getByRole('button', { name: 'Revoke token' }).click();
  await expect(section.getByText('No tokens yet.')).toBeVisible();
  const refused = await ci.get('/api/v1/user', { headers: { Authorization: `Bearer ${secret}` } });
  expect(refused.status()).toBe(401);
  await ci.dispose();
});

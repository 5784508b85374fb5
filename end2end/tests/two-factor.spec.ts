// Two-factor authentication as a user turns it on: the key shown on the account page, a code
// computed here from it (RFC 6238, as an authenticator app does), the recovery codes shown once; then
// signing in asks for a code after the password.
import { createHmac } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { acceptAsNewVisitor, invite, newAccount, ready, signUp, uniqueEmail } from './helpers';
import type { Page } from '@playwright/test';

/** Decodes RFC 4648 base32 (no padding). */
function base32(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The 6-digit TOTP code of `key` at `unixSeconds` (SHA-1, 30-second steps). */
function totp(key: string, unixSeconds: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', base32(key)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}

test('a user turns on two-factor authentication, signs out, and signs in with a code', async ({ page }) => {
  const account = newAccount('twofactor');
  await signUp(page, account);
  await page.getByRole('link', { name: 'Account' }).click();
  await ready(page);
  await expect(page.getByRole('heading', { name: 'Two-factor authentication' })).toBeVisible();
  await page.getByRole('button', { name: 'Turn on' }).click();
  const key = (await page.getByTestId('two-factor-key').textContent())!.trim();
  expect(key).toMatch(/^[A-Z2-7]+$/);
  await expect(page.locator('.qr svg')).toBeVisible();
  await page.getByLabel('Authentication code').fill(totp(key, Date.now() / 1000));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await expect(page.getByTestId('two-factor-state')).toContainText('On');
  await expect(page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem')).toHaveCount(10);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
  await page.goto('/signin');
  await ready(page);
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The code that turned it on is spent: the next step's code (the server allows one step of skew).
  await page.getByLabel('Authentication code').fill(totp(key, Date.now() / 1000 + 30));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('link', { name: 'Account' })).toBeVisible();
  await expect(page.getByTestId('role')).toHaveText('Owner');
});

/** Turns two-factor authentication on from the account page; answers the key. */
async function turnOn(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Turn on' }).click();
  const key = (await page.getByTestId('two-factor-key').textContent())!.trim();
  await page.getByLabel('Authentication code').fill(totp(key, Date.now() / 1000));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.getByRole('button', { name: 'I have kept my recovery codes' }).click();
  await expect(page.getByTestId('two-factor-state')).toContainText('On');
  return key;
}

test('a team that requires two-factor authentication sends a member without it to set it up first', async ({ page, browser }) => {
  await signUp(page, newAccount('strict'));
  await page.getByRole('link', { name: 'Account' }).click();
  await ready(page);
  await turnOn(page);
  await page.getByRole('link', { name: 'Members' }).click();
  await ready(page);
  // Saving the requirement reloads the session, which mounts the Members page anew (its members
  // listed again): wait for that before opening the invitation form, or the form is replaced under
  // the test's hands.
  const remounted = page.waitForResponse((r) => r.url().endsWith('/api/list_members') && r.ok());
  await page.getByLabel('Require two-factor authentication').check();
  await remounted;
  await expect(page.getByLabel('Require two-factor authentication')).toBeChecked();

  const link = await invite(page, uniqueEmail('member'), 'NORMAL');
  const context = await browser.newContext();
  const member = await context.newPage();
  await acceptAsNewVisitor(member, link, 'Mo Member');
  await expect(member).toHaveURL(/\/account$/);
  await expect(member.getByRole('alert').filter({ hasText: 'requires two-factor authentication' })).toBeVisible();
  await member.goto('/projects');
  await expect(member).toHaveURL(/\/account$/);
  await ready(member);
  await turnOn(member);
  await member.getByRole('link', { name: 'Projects' }).click();
  await expect(member).toHaveURL(/\/projects$/);
  await context.close();
});

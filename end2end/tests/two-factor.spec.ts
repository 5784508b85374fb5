// Two-factor authentication as a user turns it on: the key shown on the account page, a code
// computed here from it (RFC 6238, as an authenticator app does), the recovery codes shown once; then
// signing in asks for a code after the password.
import { createHmac } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { PASSWORD, acceptAsNewVisitor, invite, newAccount, ready, signUp, uniqueEmail } from './helpers';
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
  // Turning it on changes how one signs in: the password is asked for again.
  await page.getByLabel('Your password').fill(account.password);
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
  await page.getByLabel('Your password').fill(PASSWORD);
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
  // Saving the requirement keeps the Members page as it is (the owner has a second factor, so
  // nothing the frame shows changes): an invitation being written keeps what was typed.
  await page.getByRole('button', { name: 'Invite' }).click();
  const email = uniqueEmail('member');
  await page.getByLabel('Email').fill(email);
  let listedAgain = 0;
  page.on('request', (r) => {
    if (r.url().endsWith('/api/list_members')) listedAgain += 1;
  });
  const saved = page.waitForResponse((r) => r.url().endsWith('/api/set_two_factor_requirement') && r.ok());
  await page.getByLabel('Require two-factor authentication').check();
  await saved;
  // A remount (as a reload of the session made) asks for the members within milliseconds; give it
  // half a second to show.
  await page.waitForTimeout(500);
  await expect(page.getByLabel('Require two-factor authentication')).toBeChecked();
  await expect(page.getByLabel('Email')).toHaveValue(email);
  expect(listedAgain, 'the Members page was mounted anew').toBe(0);
  // The session's copy was kept current: the page, opened again, shows the saved requirement.
  await page.getByRole('link', { name: 'Projects' }).click();
  await ready(page);
  await page.getByRole('link', { name: 'Members' }).click();
  await ready(page);
  await expect(page.getByLabel('Require two-factor authentication')).toBeChecked();

  const link = await invite(page, email, 'NORMAL');
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

test('an account with two-factor authentication accepts an invitation with its password, then a code', async ({ page, browser }) => {
  // The invitee turns two-factor authentication on in their own team, then signs out.
  const context = await browser.newContext();
  const invitee = await context.newPage();
  const account = newAccount('twofactor-invitee');
  await signUp(invitee, account);
  await invitee.getByRole('link', { name: 'Account' }).click();
  await ready(invitee);
  const key = await turnOn(invitee);
  await invitee.getByRole('button', { name: 'Sign out' }).click();
  await expect(invitee.getByRole('button', { name: 'Sign out' })).toHaveCount(0);

  await signUp(page, newAccount('twofactor-inviter'));
  const link = await invite(page, account.email, 'NORMAL');

  // The password alone joins nothing: the page asks for the code, and the code joins.
  await invitee.goto(link);
  await ready(invitee);
  await invitee.getByLabel('Password').fill(account.password);
  await invitee.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(invitee.getByLabel('Authentication code')).toBeVisible();
  await expect(invitee.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
  // The code that turned it on is spent: the next step's code (the server allows one step of skew).
  await invitee.getByLabel('Authentication code').fill(totp(key, Date.now() / 1000 + 30));
  await invitee.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(invitee.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(invitee.getByTestId('role')).toHaveText('Member');
  await context.close();
});

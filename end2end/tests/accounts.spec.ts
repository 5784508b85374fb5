import { expect, test } from '@playwright/test';
import { newAccount, ready, signIn, signOut, signUp } from './helpers';

test('a new user signs up, signs out, signs in, is refused a wrong password, and signs out', async ({ page }) => {
  const ann = newAccount('ann');

  await signUp(page, ann);
  await expect(page.getByTestId('team-name')).toHaveText(ann.team);
  await expect(page.getByTestId('role')).toHaveText('Owner');
  await expect(page.getByLabel('Team')).toHaveValue(/[0-9a-f-]{36}/);

  await signOut(page);

  await signIn(page, ann.email, ann.password);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await ready(page);
  await expect(page.getByTestId('team-name')).toHaveText(ann.team);
  await signOut(page);

  await signIn(page, ann.email, 'not the right password');
  await expect(page.getByRole('alert').filter({ hasText: 'email or password is not correct' })).toBeVisible();
  await expect(page).toHaveURL(/\/signin$/);

  await signIn(page, ann.email, ann.password);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await signOut(page);

  // Signed out for real: the start page sends us back to sign in.
  await page.goto('/');
  await expect(page).toHaveURL(/\/signin$/);
});

test('the sign-up form applies the shared rules before sending anything', async ({ page }) => {
  const sent: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/api/sign_up')) sent.push(request.url());
  });
  // The common-password list is fetched by the form, not built into the bundle.
  const list = page.waitForResponse((r) => r.url().endsWith('/common-passwords.txt') && r.ok());
  await page.goto('/signup');
  await ready(page);
  await list;
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Display name').fill('Ann');
  await page.getByLabel('Password').fill('password');
  await page.getByLabel('Team name').fill('Team');
  await page.getByRole('button', { name: 'Sign up' }).click();

  await expect(page.locator('#email-error')).not.toBeEmpty();
  await expect(page.locator('#password-error')).toContainText('too common');
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  expect(sent).toEqual([]);
});

test('the server refuses a taken email and the form shows it on the field', async ({ page, browser }) => {
  const ann = newAccount('taken');
  await signUp(page, ann);

  const other = await browser.newContext();
  const page2 = await other.newPage();
  await page2.goto('/signup');
  await ready(page2);
  await page2.getByLabel('Email').fill(ann.email.toUpperCase());
  await page2.getByLabel('Display name').fill('Someone else');
  await page2.getByLabel('Password').fill(ann.password);
  await page2.getByLabel('Team name').fill('Another team');
  await page2.getByRole('button', { name: 'Sign up' }).click();
  await expect(page2.locator('#email-error')).toContainText('already exists');
  await other.close();
});

test('the app runs under its content security policy without violations', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') violations.push(message.text());
  });
  const response = await page.goto('/signin');
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");
  await ready(page);
  await expect(page.getByRole('heading', { name: 'Sign in to Moth' })).toBeVisible();
  expect(violations.filter((v) => v.includes('Content Security Policy'))).toEqual([]);
});

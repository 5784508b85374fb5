// Reusable steps for Moth's end-to-end tests. Every test makes its own accounts, so tests can run in
// parallel against one server.
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

export const PASSWORD = 'correct horse battery staple';

let counter = 0;
/** An email address no other test uses. */
export function uniqueEmail(who = 'user'): string {
  counter += 1;
  return `${who}-${Date.now()}-${process.pid}-${counter}@example.org`;
}

/** Waits until the app has loaded its data (`<body data-ready="true">`), then checks the page as
 * it stands with axe-core (WCAG 2.2 A and AA): every page and state a test reaches through here has
 * no accessibility violation. */
export async function ready(page: Page): Promise<void> {
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  await expectAccessible(page);
}

/** axe-core's verdict on the page once it settles: no violation, each one listed with its elements.
 * Asked again until the page has none or 10 s pass: a page that is still drawing its data (a
 * navigation within the same page keeps the old `data-ready` for a moment) is not a state people
 * read, while a violation that lasts fails with its list. */
export async function expectAccessible(page: Page): Promise<void> {
  const violations = async () => {
    const { violations } = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
      .analyze();
    return violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`);
  };
  await expect.poll(violations, { message: `axe-core on ${page.url()}`, timeout: 10_000 }).toEqual([]);
}

export interface Account {
  email: string;
  password: string;
  displayName: string;
  team: string;
}

export function newAccount(who = 'user'): Account {
  return { email: uniqueEmail(who), password: PASSWORD, displayName: `${who} tester`, team: `${who}'s team` };
}

/** Signs up through the form and waits for the signed-in shell. */
export async function signUp(page: Page, account: Account): Promise<void> {
  await page.goto('/signup');
  await ready(page);
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Display name').fill(account.displayName);
  await page.getByLabel('Password').fill(account.password);
  await page.getByLabel('Team name').fill(account.team);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await ready(page);
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/signin');
  await ready(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await ready(page);
}

/**
 * On the members page, invites `email` with `role` (ADMIN, NORMAL or GUEST) to the projects whose
 * choices are labelled `projects` ("WEB · Website"), and answers the link.
 */
export async function invite(
  page: Page,
  email: string,
  role: 'ADMIN' | 'NORMAL' | 'GUEST',
  projects: string[] = [],
): Promise<string> {
  if (!page.url().endsWith('/members')) {
    await page.getByRole('link', { name: 'Members' }).click();
    await expect(page.getByRole('heading', { name: 'Members' })).toBeVisible();
    await ready(page);
  }
  if (!(await page.getByRole('button', { name: 'Send invitation' }).isVisible())) {
    await page.getByRole('button', { name: 'Invite' }).click();
  }
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Role', { exact: true }).selectOption(role);
  for (const project of projects) {
    await page.getByRole('group', { name: 'Projects' }).getByLabel(project).check();
  }
  await page.getByRole('button', { name: 'Send invitation' }).click();
  const link = page.getByLabel(/^Invitation link for/);
  await expect(link).toHaveValue(/\/invite\/[A-Za-z0-9_-]{43}$/);
  await expect(page.getByRole('row').filter({ hasText: email })).toBeVisible();
  return link.inputValue();
}

/** A new visitor opens an invitation link and creates their account through it. */
export async function acceptAsNewVisitor(page: Page, link: string, displayName: string): Promise<void> {
  await page.goto(link);
  await ready(page);
  await page.getByLabel('Display name').fill(displayName);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await ready(page);
}

/** Calls a server function as the page's signed-in user and answers its JSON (asserting 200). */
export async function api(page: Page, endpoint: string, form: Record<string, string>): Promise<any> {
  const response = await page.request.post(`/api/${endpoint}`, { form });
  expect(response.status(), `${endpoint}: ${await response.text()}`).toBe(200);
  return response.json();
}

import { expect, test, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { acceptAsNewVisitor, invite, newAccount, ready, signUp, uniqueEmail } from './helpers';

/** On a project page: files an issue through "New issue" and lands on its page. */
async function fileIssue(page: Page, title: string, visibility?: 'internal' | 'public'): Promise<void> {
  await page.getByRole('button', { name: 'New issue' }).click();
  // The form puts the focus on its title in the next frame: typing starts after that (otherwise, on a
  // loaded machine, the move lands between two fills and the description goes into the title).
  await expect(page.getByLabel('Title')).toBeFocused();
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Description').fill(`Steps for **${title}**`);
  if (visibility) await page.getByLabel('Visibility', { exact: true }).selectOption(visibility);
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('heading', { name: new RegExp(`^WEB-\\d+ ${title}$`) })).toBeVisible();
  await ready(page);
}

async function openProject(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Projects' }).click();
  await ready(page);
  await page.getByRole('link', { name: 'WEB', exact: true }).click();
  await ready(page);
}

test('a guest sees exactly their own and public issues, never internal comments; board and CSV work', async ({
  page,
  browser,
}) => {
  // The longest walk of the suite (two people, three pages, axe on each): 30 to 45 s alone, over a
  // minute once on a loaded 2-core machine, so it gets twice the default.
  test.setTimeout(120_000);
  await signUp(page, newAccount('owner'));
  const guestLink = await invite(page, uniqueEmail('guest'), 'GUEST');
  const guestContext = await browser.newContext();
  const guest = await guestContext.newPage();
  await acceptAsNewVisitor(guest, guestLink, 'Gina Guest');

  await page.getByRole('link', { name: 'Projects' }).click();
  await ready(page);
  await page.getByRole('button', { name: 'New project' }).click();
  await page.getByLabel('Name').fill('Website');
  await page.getByLabel('Key').fill('WEB');
  await page.getByLabel('Visibility').selectOption('public');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(/\/projects\/WEB$/);
  await ready(page);
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await ready(page);
  await page.getByLabel('Team member').selectOption({ label: 'Gina Guest (Guest)' });
  await page.getByRole('button', { name: 'Add to project' }).click();
  await expect(page.getByText('Gina Guest · Guest')).toBeVisible();
  await page.getByRole('link', { name: 'Issues', exact: true }).click();
  await ready(page);

  await fileIssue(page, 'Internal only', 'internal');
  await openProject(page);
  await fileIssue(page, 'Public problem', 'public');
  // Edit it: the environment in the form, the due date, tags and severity in place; the history
  // records each field.
  await page.getByText('Environment', { exact: true }).first().click();
  await page.getByLabel('Browser').fill('Firefox 130');
  await page.getByLabel('Due date').fill('2026-12-31');
  await expect(page.locator('.activity')).toContainText('changed due date');
  await page.getByLabel('Tags').fill('login, ui');
  await page.getByLabel('Tags').press('Enter');
  await expect(page.locator('.activity')).toContainText('changed tags');
  await page.getByLabel('Severity').selectOption('critical');
  await page.getByRole('button', { name: 'Save' }).click();
  // The history says what changed from what to what; the page shows the environment and due date.
  await expect(page.locator('.activity')).toContainText('changed environment from nothing to “browser Firefox 130”');
  await expect(page.locator('.activity')).toContainText('changed severity from “medium” to “critical”');
  await expect(page.locator('.activity')).toContainText('changed due date from nothing to “2026-12-31”');
  await expect(page.getByTestId('environment')).toContainText('Firefox 130');
  await expect(page.getByLabel('Due date')).toHaveValue('2026-12-31');
  await expect(page.getByLabel('Tags')).toHaveValue('login, ui');
  // Tags in the list filter by themselves.
  await openProject(page);
  await page.getByRole('link', { name: 'login', exact: true }).click();
  await expect(page).toHaveURL(/tag=login/);
  await ready(page);
  await expect(page.getByRole('table').getByRole('row')).toHaveCount(2);
  await page.goto('/projects/WEB/issues/2');
  await ready(page);
  await page.getByLabel('New comment').fill('Secret note for the team');
  await page.getByLabel('Internal comment').check();
  await page.getByRole('button', { name: 'Comment' }).click();
  await expect(page.getByText('Secret note for the team')).toBeVisible();

  // The guest files an issue and sees exactly their own and the public one.
  await openProject(guest);
  await fileIssue(guest, 'Guest report');
  await openProject(guest);
  const rows = guest.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(3);
  await expect(guest.getByRole('cell', { name: /Guest report/ })).toBeVisible();
  await expect(guest.getByRole('cell', { name: /Public problem/ })).toBeVisible();
  await expect(guest.getByText('Internal only')).toHaveCount(0);
  const search = guest.getByRole('searchbox', { name: 'Search' });
  await search.fill('internal');
  await guest.getByRole('button', { name: 'Search' }).click();
  await expect(guest.getByText('No issues match.')).toBeVisible();
  await expect(guest).toHaveURL(/q=internal/);

  // The guest comments on the public issue and never sees the internal comment.
  await guest.goto('/projects/WEB/issues/2');
  await ready(guest);
  // A guest reads the properties; nothing on the head can change them.
  await expect(guest.getByTestId('fields')).toBeVisible();
  for (const name of ['Status', 'Severity', 'Priority']) {
    await expect(guest.getByRole('combobox', { name })).toHaveCount(0);
  }
  await guest.getByLabel('New comment').fill('Thanks, same here');
  await guest.getByRole('button', { name: 'Comment' }).click();
  await expect(guest.getByText('Thanks, same here')).toBeVisible();
  // The guest edits their own comment; they cannot edit the owner's.
  const own = guest.locator('.comment').filter({ hasText: 'Thanks, same here' });
  await own.getByRole('button', { name: 'Edit' }).click();
  await guest.getByLabel('Edit comment').fill('Thanks, same here (Firefox too)');
  await guest.getByRole('button', { name: 'Save comment' }).click();
  await expect(guest.getByText('Thanks, same here (Firefox too)')).toBeVisible();
  await expect(guest.getByText('Secret note')).toHaveCount(0);
  await expect(guest.getByLabel('Internal comment')).toHaveCount(0);
  await guest.goto('/projects/WEB/issues/1');
  await ready(guest);
  await expect(guest.getByRole('alert')).toContainText('Not found');

  // The owner drags the public issue to Done on the board; the card links to its issue.
  await openProject(page);
  await page.getByRole('link', { name: 'Board' }).click();
  await ready(page);
  const card = page.getByRole('article', { name: /^WEB-2 / });
  await expect(card.getByRole('link', { name: /^WEB-2 / })).toHaveAttribute('href', '/projects/WEB/issues/2');
  // Scrolled into view first: Playwright's own scrolling as a drag starts breaks the drag.
  await page.locator('.board').scrollIntoViewIfNeeded();
  await card.dragTo(page.getByRole('region', { name: 'Done' }));
  await expect(page.getByRole('region', { name: 'Done' })).toContainText('WEB-2');
  await expect(page.getByRole('region', { name: 'New' })).not.toContainText('WEB-2');

  // An admin deletes an issue (softly); it leaves the list.
  await page.goto('/projects/WEB/issues/1');
  await ready(page);
  await page.getByRole('button', { name: 'Delete issue' }).click();
  await page.getByRole('group', { name: 'Delete WEB-1 for everyone? This cannot be undone.' })
    .getByRole('button', { name: 'Delete WEB-1' }).click();
  await expect(page).toHaveURL(/\/projects\/WEB$/);
  await ready(page);
  await expect(page.getByText('Internal only')).toHaveCount(0);

  // CSV export downloads the current view.
  await page.getByRole('link', { name: 'List' }).click();
  await ready(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const csv = await readFile((await download.path())!, 'utf8');
  expect(csv).toContain('WEB-2');
  expect(csv).not.toContain('Internal only');
  expect(csv).toContain('Public problem');
  expect(csv).toContain('Guest report');
  await guestContext.close();
});

test('filters live in the URL and the list pages with "More issues"', async ({ page }) => {
  await signUp(page, newAccount('lister'));
  const post = async (endpoint: string, form: Record<string, string>) => {
    const response = await page.request.post(`/api/${endpoint}`, { form });
    expect(response.status()).toBe(200);
    return response.json();
  };
  const project = await post('create_project', { 'input[name]': 'Listing', 'input[key]': 'LST' });
  for (let n = 1; n <= 55; n++) {
    await post('create_issue', {
      'input[project_id]': project.id,
      'input[fields][title]': `Item ${n}`,
      'input[fields][severity]': n % 5 === 0 ? 'critical' : 'low',
    });
  }
  await page.goto('/projects/LST');
  await ready(page);
  const rows = page.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(51);
  await page.getByRole('button', { name: 'More issues' }).click();
  await expect(rows).toHaveCount(56);
  await expect(page.getByRole('button', { name: 'More issues' })).toHaveCount(0);

  await page.getByLabel('Add filter').selectOption('severity=critical');
  await expect(page).toHaveURL(/severity=critical/);
  await ready(page);
  await expect(rows).toHaveCount(12);
  // The view is bookmarkable: loading the URL again gives the same list.
  await page.reload();
  await ready(page);
  await expect(rows).toHaveCount(12);
  await page.getByRole('link', { name: 'Remove filter severity: critical' }).click();
  await expect(page).not.toHaveURL(/severity=/);
  await expect(rows).toHaveCount(51);
});

import { expect, test } from '@playwright/test';
import { newAccount, ready, signUp } from './helpers';

test('an owner creates a public project, publishes it and archives it', async ({ page, browser }) => {
  await signUp(page, newAccount('owner'));
  await page.getByRole('link', { name: 'Projects' }).click();
  await ready(page);
  await expect(page.getByText('No projects yet.')).toBeVisible();

  await page.getByRole('button', { name: 'New project' }).click();
  await page.getByLabel('Name').fill('Website');
  await page.getByLabel('Key').fill('w');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page.locator('#key-error')).toContainText('capital letters');

  await page.getByLabel('Key').fill('web');
  await page.getByLabel('Visibility').selectOption('public');
  await page.getByRole('button', { name: 'Create' }).click();
  // A new project opens on its (empty) issue list.
  await expect(page).toHaveURL(/\/projects\/WEB$/);
  await ready(page);
  await expect(page.getByRole('heading', { name: 'WEB Website' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'New issue' })).toBeVisible();
  await expect(page.getByLabel('Rename to')).toHaveCount(0);

  await page.getByRole('link', { name: 'Projects', exact: true }).click();
  await ready(page);
  const row = page.getByRole('row').filter({ hasText: 'Website' });
  await expect(row).toContainText('WEB');
  await expect(row).toContainText('Public');
  await row.getByRole('link', { name: 'WEB' }).click();
  await ready(page);
  // Settings live on their own page.
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await expect(page).toHaveURL(/\/projects\/WEB\/settings$/);
  await ready(page);
  await expect(page.getByRole('heading', { name: 'WEB Website' })).toBeVisible();
  await expect(page.locator('.workflow li')).toHaveCount(5);
  await page.getByLabel('Status name').fill('Blocked');
  await page.getByLabel('Category').selectOption('in_progress');
  await page.getByRole('button', { name: 'Add status' }).click();
  await expect(page.locator('.workflow li')).toHaveCount(6);
  await expect(page.locator('.workflow li').last()).toContainText('Blocked');
  await page.locator('.status-row').filter({ has: page.getByLabel('Name of status Blocked') }).getByRole('button', { name: 'Move up' }).click();
  await expect(page.locator('.workflow li').nth(4)).toContainText('Blocked');
  await page.getByLabel('About the project').fill('The public website');
  await page.getByLabel('Published', { exact: false }).check();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Public, published')).toBeVisible();
  await expect(page.getByText('The public website')).toBeVisible();
  const publicPath = await page.getByRole('link', { name: /^\/p\// }).textContent();

  // Anyone can read the published project, without signing in.
  const anonymous = await browser.newContext();
  const visitor = await anonymous.newPage();
  await visitor.goto(publicPath!);
  await ready(visitor);
  await expect(visitor.getByRole('heading', { name: 'WEB Website' })).toBeVisible();
  await expect(visitor.getByText('Public issues, read-only')).toBeVisible();
  await expect(visitor.getByRole('button', { name: 'New issue' })).toHaveCount(0);
  await anonymous.close();
  await page.getByRole('button', { name: 'Archive' }).click();
  await expect(page.getByText('Public, published, archived')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Restore' })).toBeVisible();
});

test('the public page of a published project pages on like the list', async ({ page, browser }) => {
  await signUp(page, newAccount('publisher'));
  const post = async (endpoint: string, form: Record<string, string>) => {
    const response = await page.request.post(`/api/${endpoint}`, { form });
    expect(response.status(), `${endpoint}: ${await response.text()}`).toBe(200);
    return response.json();
  };
  const project = await post('create_project', { 'input[name]': 'Open', 'input[key]': 'OPEN', 'input[visibility]': 'public' });
  await post('update_project', {
    'input[project_id]': project.id,
    'input[name]': 'Open',
    'input[visibility]': 'public',
    'input[published]': 'true',
  });
  for (let n = 1; n <= 52; n++) {
    await post('create_issue', {
      'input[project_id]': project.id,
      'input[fields][title]': `Public issue ${n}`,
      'input[fields][visibility]': n === 52 ? 'internal' : 'public',
    });
  }
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(`/p/${project.id}`);
  await ready(visitor);
  const rows = visitor.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(51); // the header and the first 50
  await visitor.getByRole('button', { name: 'More issues' }).click();
  await expect(rows).toHaveCount(52);
  await expect(visitor.getByRole('cell', { name: 'Public issue 51', exact: true })).toBeVisible();
  await expect(visitor.getByText('Public issue 52')).toHaveCount(0);
  await expect(visitor.getByRole('button', { name: 'More issues' })).toHaveCount(0);
});

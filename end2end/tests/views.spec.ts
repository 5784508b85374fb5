// Saved views, as a keyboard user makes and uses them: a filter saved under a name (shared with the
// team), opened again from "Saved views…" with the keyboard, deleted after one question; a guest of the
// same project neither sees the shared view nor may share.
import { expect, test } from '@playwright/test';
import { acceptAsNewVisitor, api, expectAccessible, invite, newAccount, ready, signUp, uniqueEmail } from './helpers';

test('a filter saved as a shared view opens again by keyboard, stays from guests, and is deleted after one question', async ({ page, browser }) => {
  test.setTimeout(90_000);
  const owner = newAccount('viewer');
  await signUp(page, owner);
  const project = await api(page, 'create_project', { 'input[name]': 'Views', 'input[key]': 'VUE', 'input[visibility]': 'public' });
  for (const [title, severity] of [['Login fails', 'high'], ['Typo in footer', 'low']]) {
    await api(page, 'create_issue', {
      'input[project_id]': project.id,
      'input[fields][title]': title,
      'input[fields][severity]': severity,
      'input[fields][visibility]': 'public',
    });
  }

  // Save the high-severity list as "Severe", shared, without the mouse.
  await page.goto('/projects/VUE?view=list&severity=high');
  await ready(page);
  await expect(page.getByRole('cell', { name: 'Login fails' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'Typo in footer' })).toHaveCount(0);
  await page.getByLabel('View name').fill('Severe');
  await page.getByLabel('Share with the team').check();
  await page.getByLabel('View name').press('Enter');
  await expect(page.getByRole('status').filter({ hasText: 'Saved view Severe.' })).toBeAttached();
  const views = page.getByLabel('Saved views');
  await expect(views.getByRole('option', { name: /^Severe \(shared by / })).toBeAttached();
  await expect(page.getByLabel('View name')).toHaveValue('');
  // The same name again is refused next to the field, and nothing is lost.
  await page.getByLabel('View name').fill('Severe');
  await page.getByRole('button', { name: 'Save view' }).click();
  await expect(page.getByText('You or a shared view of this project already use this name.')).toBeVisible();
  await expect(page.getByLabel('View name')).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page);

  // From the unfiltered list, the view opens on Enter; arrow keys only browse.
  await page.goto('/projects/VUE');
  await ready(page);
  await expect(page.getByRole('cell', { name: 'Typo in footer' })).toBeVisible();
  await views.focus();
  await page.keyboard.press('ArrowDown');
  await expect(page).toHaveURL(/\/projects\/VUE$/);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/severity=high/);
  await expect(page.getByRole('cell', { name: 'Login fails' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'Typo in footer' })).toHaveCount(0);

  // A guest of the project sees neither the shared view nor a way to share.
  const guestEmail = uniqueEmail('guest');
  const link = await invite(page, guestEmail, 'GUEST', ['VUE · Views']);
  const guestContext = await browser.newContext();
  const guest = await guestContext.newPage();
  await acceptAsNewVisitor(guest, link, 'Gus Guest');
  await guest.goto('/projects/VUE');
  await ready(guest);
  await expect(guest.getByLabel('View name')).toBeVisible();
  await expect(guest.getByLabel('Share with the team')).toHaveCount(0);
  await expect(guest.getByLabel('Saved views').getByRole('option')).toHaveCount(1);
  await guestContext.close();

  // The view the address shows can be deleted: one question, then it is gone for everyone.
  await page.goto('/projects/VUE?view=list&severity=high');
  await ready(page);
  await page.getByRole('button', { name: 'Delete view Severe' }).click();
  await page.getByRole('group', { name: 'Delete the view Severe for everyone?' }).getByRole('button', { name: 'Delete view' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Deleted view Severe.' })).toBeAttached();
  await expect(views.getByRole('option')).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'Delete view Severe' })).toHaveCount(0);
});

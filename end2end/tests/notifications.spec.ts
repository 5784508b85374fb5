// Hearing of activity without reloading (issue 27): in two browsers, one person mentions another
// (chosen from the editor's suggestions, then shown as a link), whose unread count and open issue page change without a reload, and whose half-typed edit is kept;
// the inbox works from the keyboard alone; axe-core checks the inbox, the issue page with its "Watch"
// toggle and the account page's notification settings.
import { expect, test, type Page } from '@playwright/test';
import { acceptAsNewVisitor, api, expectAccessible, invite, newAccount, ready, signUp, uniqueEmail } from './helpers';

async function comment(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'New comment' }).fill(text);
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  await expect(page.getByRole('textbox', { name: 'New comment' })).toHaveValue('');
}

test('a mention reaches the other browser live, and the inbox works from the keyboard', async ({ page, browser }) => {
  await signUp(page, newAccount('mentioner'));
  const project = await api(page, 'create_project', { 'input[name]': 'Live', 'input[key]': 'LIVE', 'input[visibility]': 'public' });
  const issue = await api(page, 'create_issue', { 'input[project_id]': project.id, 'input[fields][title]': 'Checkout fails' });
  const danaEmail = uniqueEmail('dana');
  const link = await invite(page, danaEmail, 'NORMAL', ['LIVE · Live']);
  const danaContext = await browser.newContext();
  const dana = await danaContext.newPage();
  await acceptAsNewVisitor(dana, link, 'Dana Member');
  const issuePath = `/projects/LIVE/issues/${issue.number}`;
  await dana.goto(issuePath);
  await ready(dana);
  await expect(dana.getByTestId('unread')).toHaveCount(0);
  // Nothing below reloads Dana's page: this mark would be gone.
  await dana.evaluate(() => { (window as any).stillHere = true; });

  // The first browser mentions Dana by the part of her address before the @.
  await page.goto(issuePath);
  await ready(page);
  // An internal comment says why mentioning a guest there would do nothing.
  const hint = page.getByText(/Mentions here notify members only/);
  await page.getByRole('textbox', { name: 'New comment' }).fill('@someone have a look');
  await expect(hint).toBeHidden();
  await page.getByLabel('Internal comment').check();
  await expect(hint).toBeVisible();
  await page.getByLabel('Internal comment').uncheck();
  // Typing "@dana" offers the people who may read the issue; Enter writes the chosen one's handle.
  const danaHandle = danaEmail.split('@')[0];
  const box = page.getByRole('textbox', { name: 'New comment' });
  await box.fill('');
  await box.pressSequentially('@dana');
  const people = page.getByRole('listbox', { name: 'People to mention' });
  await expect(people.getByRole('option')).toHaveCount(1);
  await expect(people.getByRole('option')).toHaveText(`Dana Member @${danaHandle}`);
  await expect(box).toHaveAttribute('aria-activedescendant', 'comment-body-mentions-0');
  await expectAccessible(page);
  await page.keyboard.press('Enter');
  await expect(box).toHaveValue(`@${danaHandle} `);
  await expect(people).toBeHidden();
  // Escape closes the list without writing anything, and an answer still on its way (held back
  // here until after the Escape) does not open it again.
  const askedForD = (body: string | null) => new URLSearchParams(body ?? '').get('input[prefix]') === 'd';
  let release = () => {};
  const released = new Promise<void>((resolve) => { release = resolve; });
  let sent = () => {};
  const dAsked = new Promise<void>((resolve) => { sent = resolve; });
  await page.route('**/api/mention_candidates', async (route) => {
    if (askedForD(route.request().postData())) {
      sent();
      await released;
    }
    await route.continue();
  });
  await box.pressSequentially('and @');
  await expect(people.getByRole('option')).toHaveCount(1);
  await box.press('d');
  await dAsked;
  await page.keyboard.press('Escape');
  await expect(people).toBeHidden();
  const lateAnswer = page.waitForResponse((r) => r.url().endsWith('/api/mention_candidates') && askedForD(r.request().postData()));
  release();
  await lateAnswer;
  // The answer is in; give the page a moment to (wrongly) draw it.
  await page.waitForTimeout(500);
  await expect(people).toBeHidden();
  await page.unroute('**/api/mention_candidates');
  await expect(box).toHaveValue(`@${danaHandle} and @d`);
  await box.fill(`@${danaHandle} can you check this?`);
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  await expect(box).toHaveValue('');
  // The mention is a link to the project's issues assigned to Dana.
  const danaId = (await api(dana, 'who_am_i', {})).user.id;
  await expect(page.getByRole('link', { name: `@${danaHandle}` })).toHaveAttribute('href', `/projects/LIVE?assignee=${danaId}`);

  // Dana's count and issue page change by themselves; being mentioned, she now watches the issue.
  await expect(dana.getByTestId('unread')).toHaveText('1');
  await expect(dana.getByRole('link', { name: /^Notifications 1 unread$/ })).toBeVisible();
  await expect(dana.getByText('can you check this?')).toBeVisible();
  await expect(dana.getByRole('button', { name: 'Watch' })).toHaveAttribute('aria-pressed', 'true');
  await expectAccessible(dana);

  // While she types in the issue's form, another comment does not replace her words: she is told.
  const title = dana.getByLabel('Title');
  await title.fill('Checkout fails on Safari');
  await comment(page, 'Also seen on the phone app');
  await expect(dana.getByRole('status').filter({ hasText: 'This issue changed while you were editing it.' })).toBeVisible();
  await expect(title).toHaveValue('Checkout fails on Safari');
  await expect(dana.getByText('Also seen on the phone app')).toHaveCount(0);
  await dana.getByRole('button', { name: /Show the changes/ }).click();
  await expect(dana.getByText('Also seen on the phone app')).toBeVisible();
  await expect(dana.getByLabel('Title')).toHaveValue('Checkout fails');
  expect(await dana.evaluate(() => (window as any).stillHere)).toBe(true);

  // A third entry, so that one is marked read by its button, one by opening it, one with all.
  await comment(page, 'One more thing');
  await expect(dana.getByTestId('unread')).toHaveText('3');

  // The inbox from the keyboard: the link, then "Mark all read"'s neighbours in order.
  await dana.getByRole('link', { name: /^Notifications/ }).focus();
  await dana.keyboard.press('Enter');
  await expect(dana).toHaveURL(/\/notifications$/);
  await ready(dana);
  const inbox = dana.getByTestId('inbox');
  await expect(inbox.getByRole('listitem')).toHaveCount(3);
  await expect(inbox.getByRole('listitem').first()).toContainText(`LIVE-${issue.number} Checkout fails`);
  await expect(inbox.getByRole('listitem').last()).toContainText('mentioned you');
  await expect(dana.getByText('3 unread', { exact: true })).toBeVisible();
  await dana.keyboard.press('Tab');
  await expect(dana.getByRole('button', { name: 'Mark all read' })).toBeFocused();
  await dana.keyboard.press('Tab');
  await expect(inbox.getByRole('link').first()).toBeFocused();
  await dana.keyboard.press('Tab');
  const markFirst = dana.getByRole('button', { name: `Mark read LIVE-${issue.number}` }).first();
  await expect(markFirst).toBeFocused();
  await dana.keyboard.press('Enter');
  await expect(dana.getByText('2 unread', { exact: true })).toBeVisible();
  await expect(dana.getByTestId('unread')).toHaveText('2');
  // Opening an unread entry marks it read.
  await inbox.getByRole('link').nth(1).focus();
  await dana.keyboard.press('Enter');
  await expect(dana).toHaveURL(new RegExp(`${issuePath}$`));
  await expect(dana.getByTestId('unread')).toHaveText('1');
  // The commit, not the load event, which a restored page may never fire (see everyday.spec.ts).
  await dana.goBack({ waitUntil: 'commit' });
  await ready(dana);
  await expect(dana.getByText('1 unread', { exact: true })).toBeVisible();
  await dana.getByRole('button', { name: 'Mark all read' }).focus();
  await dana.keyboard.press('Space');
  await expect(dana.getByText('0 unread', { exact: true })).toBeVisible();
  await expect(dana.getByTestId('unread')).toHaveCount(0);
  await expectAccessible(dana);
  // The entry leads to its issue.
  await inbox.getByRole('link').first().focus();
  await dana.keyboard.press('Enter');
  await expect(dana).toHaveURL(new RegExp(`${issuePath}$`));
  await ready(dana);

  // Unwatching takes effect on the server.
  await dana.getByRole('button', { name: 'Watch' }).click();
  await expect(dana.getByRole('button', { name: 'Watch' })).toHaveAttribute('aria-pressed', 'false');
  expect(await api(dana, 'issue_watching', { 'input[issue_id]': issue.id })).toBe(false);
  await danaContext.close();
});

test('notification settings are saved as they are chosen, and a member watches a project', async ({ page }) => {
  await signUp(page, newAccount('settings'));
  await page.goto('/account');
  await ready(page);
  await page.getByLabel('Only mentions and assignments').check();
  await expect(page.getByRole('status').filter({ hasText: 'Notification settings saved.' })).toBeAttached();
  const saved = await api(page, 'notification_settings', {});
  expect(saved.level).toBe('participating');
  // A sign-up has not proven its address: the page says why no mail would come.
  await expect(page.getByText(/Mail goes only to an address that has been proven/)).toBeVisible();
  await expectAccessible(page);

  const project = await api(page, 'create_project', { 'input[name]': 'Watched', 'input[key]': 'WAT', 'input[visibility]': 'public' });
  await page.goto('/projects/WAT');
  await ready(page);
  const watch = page.getByRole('button', { name: 'Watch' });
  await expect(watch).toHaveAttribute('aria-pressed', 'false');
  await watch.click();
  await expect(watch).toHaveAttribute('aria-pressed', 'true');
  expect(await api(page, 'project_watching', { 'input[project_id]': project.id })).toBe(true);
  await page.reload();
  await ready(page);
  await expect(page.getByRole('button', { name: 'Watch' })).toHaveAttribute('aria-pressed', 'true');
});

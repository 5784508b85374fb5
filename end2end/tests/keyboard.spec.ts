// Working from the keyboard alone, as in Linear and GitHub: "?" lists the shortcuts, "c" files an
// issue and Ctrl+Enter sends it, "j"/"k" and Enter walk a list, "/" searches, "a" assigns to me (and a
// status region says it was saved), "s" and "e" reach the status and the title; Markdown has a
// "Preview" toggle whose preview is the server's rendering, and issue keys in text are links.
import { expect, test } from '@playwright/test';
import { api, expectAccessible, newAccount, ready, signUp } from './helpers';

test('shortcuts file, walk, search and assign an issue without the mouse', async ({ page }) => {
  const account = newAccount('keyboard');
  await signUp(page, account);
  const project = await api(page, 'create_project', { 'input[name]': 'Keys', 'input[key]': 'KEYS', 'input[visibility]': 'public' });
  for (const title of ['First one', 'Second one']) {
    await api(page, 'create_issue', { 'input[project_id]': project.id, 'input[fields][title]': title });
  }
  await page.goto('/projects/KEYS');
  await ready(page);

  // "?" opens the list as a modal dialog; Escape closes it and focus returns.
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Shortcuts' });
  await expect(help).toBeVisible();
  await expect(help).toContainText('Assign the issue to me');
  await expectAccessible(page);
  await page.keyboard.press('Escape');
  await expect(help).toBeHidden();

  // "/" reaches the search box; typing there is text, not shortcuts.
  await page.keyboard.press('/');
  const search = page.getByRole('searchbox', { name: 'Search' });
  await expect(search).toBeFocused();
  await page.keyboard.type('jk');
  await expect(search).toHaveValue('jk');
  await search.fill('');
  await search.blur();

  // "j" and "k" walk the list; Enter opens the issue in focus.
  await page.keyboard.press('j');
  await expect(page.getByRole('link', { name: 'KEYS-1' })).toBeFocused();
  await page.keyboard.press('j');
  await expect(page.getByRole('link', { name: 'KEYS-2' })).toBeFocused();
  await page.keyboard.press('k');
  await expect(page.getByRole('link', { name: 'KEYS-1' })).toBeFocused();
  await page.keyboard.press('j');
  await expect(page.getByRole('link', { name: 'KEYS-2' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/projects\/KEYS\/issues\/2$/);
  await ready(page);

  // "a" assigns the issue to me and the status region says it was saved; "s" and "e" reach fields.
  await page.keyboard.press('a');
  await expect(page.getByTestId('saved')).toHaveText('Saved KEYS-2.');
  await expect(page.getByTestId('fields')).toContainText(account.displayName);
  await expect(page.getByRole('button', { name: 'Assign to me' })).toHaveCount(0);
  await page.locator('#content').focus();
  await page.keyboard.press('s');
  await expect(page.getByLabel('Status')).toBeFocused();
  await page.locator('#content').focus();
  await page.keyboard.press('e');
  await expect(page.getByLabel('Title')).toBeFocused();

  // "c" opens "New issue" with focus on its title; Ctrl+Enter sends the form.
  await page.goto('/projects/KEYS');
  await ready(page);
  await page.keyboard.press('c');
  await expect(page.getByLabel('Title')).toBeFocused();
  await page.keyboard.type('Filed from the keyboard');
  await page.keyboard.press('Control+Enter');
  await expect(page).toHaveURL(/\/projects\/KEYS\/issues\/3$/);
  await expect(page).toHaveTitle('KEYS-3 Filed from the keyboard · Moth');
});

test('the preview shows what saving gives, and issue keys in text open their issue', async ({ page }) => {
  await signUp(page, newAccount('preview'));
  const project = await api(page, 'create_project', { 'input[name]': 'Preview', 'input[key]': 'PRE', 'input[visibility]': 'public' });
  await api(page, 'create_issue', { 'input[project_id]': project.id, 'input[fields][title]': 'The original' });
  await api(page, 'create_issue', { 'input[project_id]': project.id, 'input[fields][title]': 'A duplicate' });
  await page.goto('/projects/PRE/issues/2');
  await ready(page);

  const comment = page.getByRole('textbox', { name: 'New comment' });
  await comment.fill('Same as PRE-1, **really** <img src=x onerror=alert(1)>');
  // The comment's own "Preview" (the description's comes first on the page).
  const toggle = page.getByRole('button', { name: 'Preview' }).last();
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await toggle.click();
  const preview = page.getByTestId('preview').last();
  await expect(preview.locator('strong')).toHaveText('really');
  await expect(preview.getByRole('link', { name: 'PRE-1' })).toHaveAttribute('href', '/projects/PRE/issues/1');
  await expect(preview.locator('img')).toHaveCount(0);
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await expect(comment).toBeHidden();
  await expectAccessible(page);

  // Back to writing: the text is as it was; Ctrl+Enter sends it.
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(comment).toHaveValue(/^Same as PRE-1/);
  await comment.press('Control+Enter');
  const posted = page.locator('.activity .comment .markdown').first();
  await expect(posted.locator('strong')).toHaveText('really');

  // The key in the saved comment opens its issue on the same route.
  await posted.getByRole('link', { name: 'PRE-1' }).click();
  await expect(page).toHaveURL(/\/projects\/PRE\/issues\/1$/);
  await expect(page).toHaveTitle('PRE-1 The original · Moth');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('PRE-1 The original');
  await ready(page);
});

test('status, severity and priority change in place from the keyboard, leaving unsaved edits alone', async ({ page }) => {
  await signUp(page, newAccount('inplace'));
  const project = await api(page, 'create_project', { 'input[name]': 'In place', 'input[key]': 'INP', 'input[visibility]': 'private' });
  await api(page, 'create_issue', { 'input[project_id]': project.id, 'input[fields][title]': 'Change me' });
  await page.goto('/projects/INP/issues/1');
  await ready(page);

  // An edit of the title, not saved yet.
  await page.getByLabel('Title').fill('Changed, not saved');
  // Arrow keys browse the priorities without saving; Enter saves the one shown.
  const priority = page.getByRole('combobox', { name: 'Priority' });
  await priority.focus();
  await priority.press('ArrowUp');
  await expect(page.getByTestId('saved')).toHaveText('');
  await priority.press('Enter');
  await expect(page.getByTestId('saved')).toHaveText('Saved INP-1.');
  await expect(page.locator('.activity')).toContainText(/changed priority from “none” to “low”/);
  // The title's unsaved edit is still there, and the issue's title is unchanged.
  await expect(page.getByLabel('Title')).toHaveValue('Changed, not saved');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('INP-1 Change me');

  // "s" reaches the status in place; a new status is saved at once and goes into the history.
  await page.locator('#content').focus();
  await page.keyboard.press('s');
  const status = page.getByRole('combobox', { name: 'Status' });
  await expect(status).toBeFocused();
  await status.press('ArrowDown');
  await status.press('Enter');
  await expect(page.locator('.activity')).toContainText('changed status');
  await page.getByRole('combobox', { name: 'Severity' }).selectOption('critical');
  await expect(page.locator('.activity')).toContainText('changed severity from “medium” to “critical”');

  // Saving the form then keeps what was chosen in place.
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('INP-1 Changed, not saved');
  await expect(page.getByRole('combobox', { name: 'Severity' })).toHaveValue('critical');
  await expect(page.getByRole('combobox', { name: 'Priority' })).toHaveValue('low');
  await expect(page.locator('.activity')).not.toContainText('to “medium”');
  await expectAccessible(page);
});

test('a comment being edited stays open, with its text, through a change in place; Cancel closes it', async ({ page }) => {
  await signUp(page, newAccount('editing'));
  const project = await api(page, 'create_project', { 'input[name]': 'Editing', 'input[key]': 'EDT', 'input[visibility]': 'private' });
  const issue = await api(page, 'create_issue', { 'input[project_id]': project.id, 'input[fields][title]': 'Keep my words' });
  await api(page, 'add_comment', { 'input[issue_id]': issue.id, 'input[body]': 'First thoughts', 'input[internal]': 'false' });
  await page.goto('/projects/EDT/issues/1');
  await ready(page);
  const comment = page.locator('.comment').filter({ hasText: 'First thoughts' });
  await comment.getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('Edit comment').fill('Second thoughts, half written');
  await page.getByLabel('New comment').fill('A new comment, half written');
  // A change in place draws the activity again; neither the editor nor the new comment loses a word.
  await page.getByRole('combobox', { name: 'Severity' }).selectOption('critical');
  await expect(page.locator('.activity')).toContainText('changed severity from “medium” to “critical”');
  await expect(page.getByLabel('Edit comment')).toHaveValue('Second thoughts, half written');
  await expect(page.getByLabel('New comment')).toHaveValue('A new comment, half written');
  // Cancel closes the editor and keeps the saved text.
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByLabel('Edit comment')).toHaveCount(0);
  await expect(comment).toContainText('First thoughts');
});

test('a change in place that the server refuses shows why and returns to the saved value', async ({ page }) => {
  await signUp(page, newAccount('refused'));
  const project = await api(page, 'create_project', { 'input[name]': 'Refused', 'input[key]': 'REF', 'input[visibility]': 'private' });
  const issue = await api(page, 'create_issue', { 'input[project_id]': project.id, 'input[fields][title]': 'Gone soon' });
  await page.goto('/projects/REF/issues/1');
  await ready(page);
  const status = page.getByRole('combobox', { name: 'Status' });
  const saved = await status.inputValue();
  // Someone else deletes the issue meanwhile; the next change here is refused.
  await api(page, 'delete_issue', { 'input[issue_id]': issue.id });
  await status.focus();
  await status.press('ArrowDown');
  await status.press('Enter');
  await expect(page.getByRole('alert').filter({ hasText: /not found|no longer/i }).first()).toBeVisible();
  await expect(page.getByRole('combobox', { name: 'Status' })).toHaveValue(saved);
  await expect(page.getByTestId('saved')).toHaveText('');
});

test('assignees, tags and the due date change in place; a refused tag keeps what was typed', async ({ page }) => {
  const owner = newAccount('props');
  await signUp(page, owner);
  const project = await api(page, 'create_project', { 'input[name]': 'Props', 'input[key]': 'PRO', 'input[visibility]': 'private' });
  // The owner joins the project, so that they are among those who may be assigned.
  const me = await api(page, 'who_am_i', {});
  await api(page, 'add_project_member', { 'input[project_id]': project.id, 'input[user_id]': me.user.id });
  await api(page, 'create_issue', { 'input[project_id]': project.id, 'input[fields][title]': 'Set my properties' });
  await page.goto('/projects/PRO/issues/1');
  await ready(page);
  await page.getByLabel('Title').fill('Unsaved title');

  // One key each: Space on an assignee's checkbox, Enter in the tags, a date in the date field.
  const fields = page.getByTestId('fields');
  const assignee = fields.getByRole('checkbox', { name: owner.displayName });
  await assignee.focus();
  await page.keyboard.press('Space');
  await expect(page.locator('.activity')).toContainText('changed assignees');
  const tags = fields.getByLabel('Tags');
  await tags.fill('login, ui');
  await tags.press('Enter');
  await expect(page.locator('.activity')).toContainText('changed tags from nothing to “login, ui”');
  await fields.getByLabel('Due date').fill('2027-03-01');
  await expect(page.locator('.activity')).toContainText('changed due date from nothing to “2027-03-01”');
  await expect(page.getByLabel('Title')).toHaveValue('Unsaved title');

  // A tag over 40 characters is refused with its reason; the text stays as typed, nothing is saved.
  const tooLong = `ok, ${'x'.repeat(41)}`;
  await tags.fill(tooLong);
  await tags.press('Enter');
  await expect(page.getByRole('alert').filter({ hasText: '40' }).first()).toBeVisible();
  await expect(tags).toHaveValue(tooLong);

  // The form's Save keeps what was set in place.
  await tags.fill('login, ui');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('PRO-1 Unsaved title');
  await page.reload();
  await ready(page);
  await expect(page.getByTestId('fields').getByRole('checkbox', { name: owner.displayName })).toBeChecked();
  await expect(page.getByTestId('fields').getByLabel('Tags')).toHaveValue('login, ui');
  await expect(page.getByTestId('fields').getByLabel('Due date')).toHaveValue('2027-03-01');

  // Comments and changes are one stream, oldest first: a comment, then a later change below it.
  await page.getByLabel('New comment').fill('Dates agreed with the customer');
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  await expect(page.locator('.activity .comment')).toContainText('Dates agreed with the customer');
  await page.getByTestId('fields').getByLabel('Due date').fill('2027-04-01');
  const items = page.locator('.activity > li');
  await expect(items.last()).toContainText('changed due date from “2027-03-01” to “2027-04-01”');
  await expect(items.nth(-2)).toContainText('Dates agreed with the customer');
  await expect(items.first()).toContainText('changed assignees');
  await expectAccessible(page);
});

test('the formatting toolbar wraps the selection in Markdown, by button and by Ctrl+B and Ctrl+I', async ({ page }) => {
  await signUp(page, newAccount('toolbar'));
  const project = await api(page, 'create_project', { 'input[name]': 'Tools', 'input[key]': 'TOOL', 'input[visibility]': 'private' });
  await api(page, 'create_issue', { 'input[project_id]': project.id, 'input[fields][title]': 'Format me' });
  await page.goto('/projects/TOOL/issues/1');
  await ready(page);

  const comment = page.getByRole('textbox', { name: 'New comment' });
  // The comment's toolbar (the description's comes first on the page).
  const tools = page.getByRole('toolbar', { name: 'Formatting' }).last();
  await comment.fill('fix the login');
  await comment.evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(8, 13));
  await tools.getByRole('button', { name: 'Bold' }).click();
  await expect(comment).toHaveValue('fix the **login**');
  // The wrapped text stays selected and the text keeps focus, so a shortcut applies to it next.
  await expect(comment).toBeFocused();
  await comment.press('Control+i');
  await expect(comment).toHaveValue('fix the **_login_**');
  // Nothing selected: a placeholder to type over.
  await comment.press('End');
  await comment.press('Control+b');
  await comment.pressSequentially('now');
  await expect(comment).toHaveValue('fix the **_login_****now**');
  await comment.press('End');
  await tools.getByRole('button', { name: 'List' }).click();
  await expect(comment).toHaveValue('fix the **_login_****now**\n- item');
  await expectAccessible(page);

  // What was written is what is saved.
  await comment.fill('');
  await comment.pressSequentially('run make');
  await comment.evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(4, 8));
  await tools.getByRole('button', { name: 'Code' }).click();
  await comment.press('Control+Enter');
  await expect(page.locator('.activity .comment .markdown').first().locator('code')).toHaveText('make');
});

test('the start page lists my open work, and the palette jumps to issues by key, number and title', async ({ page }) => {
  const account = newAccount('palette');
  await signUp(page, account);
  const me = await api(page, 'who_am_i', {});
  const project = await api(page, 'create_project', { 'input[name]': 'Jumping', 'input[key]': 'JUMP', 'input[visibility]': 'private' });
  await api(page, 'create_issue', {
    'input[project_id]': project.id,
    'input[fields][title]': 'Parachute harness frays',
    'input[fields][assignees][0]': me.user.id,
  });
  await api(page, 'create_issue', { 'input[project_id]': project.id, 'input[fields][title]': 'Another thing' });

  // The start page: assigned to me, reported by me, recent projects; j walks its lists.
  await page.goto('/');
  await ready(page);
  const assigned = page.locator('section', { has: page.getByRole('heading', { name: 'Assigned to you' }) });
  await expect(assigned.getByRole('link')).toHaveText(['JUMP-1']);
  const reported = page.locator('section', { has: page.getByRole('heading', { name: 'Reported by you' }) });
  await expect(reported.getByRole('link')).toHaveText(['JUMP-2', 'JUMP-1']);
  await expect(page.getByRole('link', { name: 'JUMP · Jumping' })).toBeVisible();
  await page.keyboard.press('j');
  await expect(assigned.getByRole('link', { name: 'JUMP-1' })).toBeFocused();

  // Ctrl+K opens the palette on its field; a query too short to look up says so.
  await page.keyboard.press('Control+k');
  const palette = page.getByRole('dialog', { name: 'Jump to' });
  const field = palette.getByRole('combobox');
  await expect(field).toBeFocused();
  await page.keyboard.type('pa');
  await expect(palette.getByRole('status')).toContainText('three letters');
  await field.fill('');

  // By key: Enter opens the issue.
  await page.keyboard.type('jump-2');
  await expect(palette.getByRole('option')).toHaveText(['JUMP · Jumping (project)', 'JUMP-2 Another thing · New']);
  await expectAccessible(page);
  await page.keyboard.press('ArrowDown');
  await expect(palette.getByRole('option', { name: /JUMP-2/ })).toHaveAttribute('aria-selected', 'true');
  await expect(field).toHaveAttribute('aria-activedescendant', 'palette-option-1');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/projects\/JUMP\/issues\/2$/);
  await expect(palette).toBeHidden();
  await ready(page);

  // By words of the title, in any order, and by number.
  await page.keyboard.press('Control+k');
  await field.fill('');
  await page.keyboard.type('frays parach');
  await expect(palette.getByRole('option')).toHaveText(['JUMP-1 Parachute harness frays · New']);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/projects\/JUMP\/issues\/1$/);
  await ready(page);
  await page.keyboard.press('Control+k');
  await field.fill('');
  await page.keyboard.type('2');
  await expect(palette.getByRole('option')).toHaveText(['JUMP-2 Another thing · New']);
  await page.keyboard.press('Escape');
  await expect(palette).toBeHidden();
});

// R3 in the browser: every validated field of every form shows its own error next to it. Each control
// is filled with a value the shared rules refuse; after submitting, the control says
// aria-invalid="true" and the element its aria-describedby names holds the message. (A due date comes
// from the browser's date picker, and statuses, roles and assignees from lists of valid choices: the
// page offers no way to enter an invalid one; the API tests cover those rules.)
import { expect, test, type Locator, type Page } from '@playwright/test';
import { api, invite, newAccount, ready, signUp, uniqueEmail } from './helpers';

const long = (n: number) => 'x'.repeat(n);

/** The control is marked invalid and its own error slot shows a message. */
async function expectOwnError(control: Locator, text?: string | RegExp): Promise<void> {
  await expect(control).toHaveAttribute('aria-invalid', 'true');
  const id = await control.getAttribute('aria-describedby');
  expect(id, 'the control names its error slot').toBeTruthy();
  const slot = control.page().locator(`[id="${id}"]`);
  await expect(slot).toHaveCount(1);
  await expect(slot).not.toBeEmpty();
  if (text) await expect(slot).toContainText(text);
}

test('sign-up, sign-in and invitation forms show each field error next to its field', async ({ page, browser }) => {
  await page.goto('/signup');
  await ready(page);
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Display name').fill(long(101));
  await page.getByLabel('Password').fill('short');
  await page.getByLabel('Team name').fill(long(101));
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expectOwnError(page.getByLabel('Email'), 'email address');
  await expectOwnError(page.getByLabel('Display name'), '100');
  await expectOwnError(page.getByLabel('Password'), '8');
  await expectOwnError(page.getByLabel('Team name'), '100');

  await page.goto('/signin');
  await ready(page);
  await page.getByLabel('Email').fill('ann@');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expectOwnError(page.getByLabel('Email'));
  await expectOwnError(page.getByLabel('Password'), 'required');

  await signUp(page, newAccount('forms-owner'));
  await page.getByRole('link', { name: 'Members' }).click();
  await ready(page);
  await page.getByRole('button', { name: 'Invite' }).click();
  await page.getByLabel('Email').fill('nobody@');
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await expectOwnError(page.getByLabel('Email'), 'email address');

  const link = await invite(page, uniqueEmail('invitee'), 'NORMAL');
  const visitor = await (await browser.newContext()).newPage();
  // The common-password list is fetched by the form, not built into the bundle.
  const list = visitor.waitForResponse((r) => r.url().endsWith('/common-passwords.txt') && r.ok());
  await visitor.goto(link);
  await ready(visitor);
  await list;
  await visitor.getByLabel('Display name').fill(long(101));
  await visitor.getByLabel('Password').fill('password');
  await visitor.getByRole('button', { name: 'Accept invitation' }).click();
  await expectOwnError(visitor.getByLabel('Display name'), '100');
  await expectOwnError(visitor.getByLabel('Password'), 'too common');
});

test('project, workflow, issue, comment and search forms show each field error next to its field', async ({
  page,
}) => {
  await signUp(page, newAccount('forms'));
  await page.getByRole('link', { name: 'Projects' }).click();
  await ready(page);
  await page.getByRole('button', { name: 'New project' }).click();
  await page.getByLabel('Name').fill(long(101));
  await page.getByLabel('Key').fill('1AB');
  await page.getByRole('button', { name: 'Create' }).click();
  await expectOwnError(page.getByLabel('Name'), '100');
  await expectOwnError(page.getByLabel('Key'), 'capital letters');

  const project = await api(page, 'create_project', {
    'input[name]': 'Forms',
    'input[key]': 'FRM',
    'input[visibility]': 'private',
  });
  await api(page, 'create_issue', { 'input[project_id]': project.id, 'input[fields][title]': 'First' });
  await page.goto('/projects/FRM/settings');
  await ready(page);

  // Project settings.
  await page.getByLabel('Rename to').fill(long(101));
  await page.getByLabel('About the project').fill(long(10_001));
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expectOwnError(page.getByLabel('Rename to'), '100');
  await expectOwnError(page.getByLabel('About the project'), '10000');

  // The workflow: a new status and a renamed one.
  await page.getByLabel('Status name').fill(long(41));
  await page.getByRole('button', { name: 'Add status' }).click();
  await expectOwnError(page.getByLabel('Status name'), '40');
  await page.getByLabel('Name of status New').fill(long(41));
  await page.getByRole('button', { name: 'Rename' }).first().click();
  await expectOwnError(page.getByLabel('Name of status New'), '40');

  // Search, on the project's issue list.
  await page.goto('/projects/FRM');
  await ready(page);
  await page.getByLabel('Search', { exact: true }).fill(long(201));
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expectOwnError(page.getByLabel('Search', { exact: true }), '200');

  // New issue: every text field of the issue form.
  await page.getByRole('button', { name: 'New issue' }).click();
  await expect(page.getByLabel('Title')).toBeFocused();
  await fillIssueForm(page);
  await page.getByRole('button', { name: 'Create' }).click();
  await expectIssueFormErrors(page);

  // The same form on the issue page, and the comments.
  await page.goto('/projects/FRM/issues/1');
  await ready(page);
  await fillIssueForm(page, false);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expectIssueFormErrors(page, false);

  await page.getByLabel('New comment').fill('   ');
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  await expectOwnError(page.getByLabel('New comment'), 'Write something');
  await page.getByLabel('New comment').fill(long(20_001));
  await page.getByRole('button', { name: 'Comment', exact: true }).click();
  await expectOwnError(page.getByLabel('New comment'), '20000');

  await api(page, 'add_comment', { 'input[issue_id]': (await issueId(page)), 'input[body]': 'To be edited' });
  await page.reload();
  await ready(page);
  await page.getByRole('button', { name: 'Edit', exact: true }).click();
  await page.getByLabel('Edit comment').fill(' ');
  await page.getByRole('button', { name: 'Save comment' }).click();
  await expectOwnError(page.getByLabel('Edit comment'), 'Write something');
});

async function issueId(page: Page): Promise<string> {
  const detail = await api(page, 'get_issue', { 'input[key]': 'FRM', 'input[number]': '1' });
  return detail.issue.id;
}

/** The issue form's text fields; `withTags`: the tags are in the form (a new issue), not in place. */
async function fillIssueForm(page: Page, withTags = true): Promise<void> {
  await page.getByLabel('Title').fill(long(201));
  await page.getByLabel('Description').fill(long(20_001));
  await page.getByText(/^Environment/).first().click();
  for (const label of ['Browser', 'OS', 'Device', 'App version']) {
    await page.getByLabel(label, { exact: true }).fill(long(101));
  }
  await page.getByLabel('URL', { exact: true }).fill('ftp://example.org/file');
  if (withTags) {
    await page.getByLabel('Tags').fill(`ok, ${long(41)}`);
  }
}

async function expectIssueFormErrors(page: Page, withTags = true): Promise<void> {
  await expectOwnError(page.getByLabel('Title'), '200');
  await expectOwnError(page.getByLabel('Description'), '20000');
  for (const label of ['Browser', 'OS', 'Device', 'App version']) {
    await expectOwnError(page.getByLabel(label, { exact: true }), '100');
  }
  await expectOwnError(page.getByLabel('URL', { exact: true }), 'http');
  if (withTags) {
    await expectOwnError(page.getByLabel('Tags'), '40');
  }
}

// Attachments as people use them: drop a file on an issue and watch it upload and pass the scan,
// paste a screenshot, see the EICAR test file refused and listed in Quarantine, and a guest who
// cannot get at an internal issue's file.
import { expect, test, type Page } from '@playwright/test';
import { api, acceptAsNewVisitor, expectAccessible, invite, newAccount, ready, signUp, uniqueEmail } from './helpers';

/** A real PNG of `width` by `height` pixels, drawn by the browser (the server decodes every image). */
async function pngBytes(page: Page, width: number, height: number): Promise<number[]> {
  return page.evaluate(async ([w, h]) => {
    const canvas = new OffscreenCanvas(w, h);
    const context = canvas.getContext('2d')!;
    context.fillStyle = '#c0392b';
    context.fillRect(0, 0, w, h);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return [...new Uint8Array(await blob.arrayBuffer())];
  }, [width, height]);
}

/** The EICAR test string, built here rather than kept in a file. */
const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');

async function projectWithIssue(page: Page, visibility: 'public' | 'internal'): Promise<{ project: any; issue: any }> {
  const key = `F${Date.now() % 100000}${Math.floor(Math.random() * 90 + 10)}`;
  const project = await api(page, 'create_project', { 'input[name]': 'Files', 'input[key]': key, 'input[visibility]': 'public' });
  const issue = await api(page, 'create_issue', {
    'input[project_id]': project.id,
    'input[fields][title]': 'Broken header',
    'input[fields][visibility]': visibility,
  });
  return { project, issue };
}

test('a dropped file and a pasted screenshot upload with progress and pass the scan', async ({ page }) => {
  await signUp(page, newAccount('files'));
  const { project, issue } = await projectWithIssue(page, 'public');
  await page.goto(`/projects/${project.key}/issues/${issue.number}`);
  await ready(page);
  const attachments = page.getByTestId('attachments');
  await expect(attachments.getByText('No files yet.')).toBeVisible();

  // Drop a file onto the attachments.
  await attachments.evaluate((zone, bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'dropped.png', { type: 'image/png' }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
  }, await pngBytes(page, 40, 30));
  const dropped = page.locator('.upload').filter({ hasText: 'dropped.png' });
  await expect(dropped.locator('progress')).toBeVisible();
  await expect(dropped.getByTestId('upload-state')).toHaveText('clean');
  await expect(attachments.getByRole('link', { name: 'dropped.png' })).toBeVisible();
  await expect(attachments.getByRole('img', { name: 'Preview of dropped.png' })).toBeVisible();

  // Paste a screenshot anywhere on the page: the clipboard calls it image.png, Moth names it by the moment.
  await page.evaluate((bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, await pngBytes(page, 1280, 720));
  const screenshot = /^screenshot-\d{4}-\d{2}-\d{2}-\d{6}\.png$/;
  const pasted = page.locator('.upload').filter({ hasText: /screenshot-/ });
  await expect(pasted.getByTestId('upload-state')).toHaveText('clean');
  await expect(pasted.locator('.upload-name')).toHaveText(screenshot);
  // The outcome is announced to screen readers in a status region.
  await expect(page.getByRole('status').filter({ hasText: /screenshot-.*\.png: clean/ })).toHaveCount(1);
  await expect(attachments.getByRole('link', { name: screenshot })).toBeVisible();
  await expect(attachments.getByRole('link', { name: 'image.png' })).toHaveCount(0);

  // The link leads to the file origin, not the app's.
  const href = await attachments.getByRole('link', { name: 'dropped.png' }).getAttribute('href');
  expect(new URL(href!).origin).not.toBe(new URL(page.url()).origin);

  // Remove one: it is gone, and the history says so.
  await attachments.getByRole('button', { name: 'Remove attachment dropped.png' }).click();
  await attachments.getByRole('group', { name: /Remove dropped.png for everyone/ }).getByRole('button', { name: 'Remove file' }).click();
  await expect(attachments.getByRole('link', { name: 'dropped.png' })).toHaveCount(0);
  await page.reload();
  await ready(page);
  await expect(page.locator('.activity')).toContainText('removed the file dropped.png');
  await expect(page.locator('.activity')).toContainText('attached screenshot-');
});

test('the EICAR test file is refused in the page and shows in Quarantine', async ({ page }) => {
  await signUp(page, newAccount('eicar'));
  const { project, issue } = await projectWithIssue(page, 'public');
  await page.goto(`/projects/${project.key}/issues/${issue.number}`);
  await ready(page);
  await page.getByLabel('Attach files', { exact: true }).setInputFiles({ name: 'eicar.txt', mimeType: 'text/plain', buffer: Buffer.from(EICAR) });
  const state = page.locator('.upload').filter({ hasText: 'eicar.txt' }).getByTestId('upload-state');
  await expect(state).toContainText('rejected');
  await expect(state).toContainText('malware');
  await expect(page.getByRole('status').filter({ hasText: 'eicar.txt: rejected' })).toHaveCount(1);
  await expect(page.getByTestId('attachments').getByRole('link', { name: 'eicar.txt' })).toHaveCount(0);

  // The browser refuses a disallowed type before sending it.
  await page.getByLabel('Attach files', { exact: true }).setInputFiles({ name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<p>hi</p>') });
  await expect(page.locator('.upload').filter({ hasText: 'page.html' }).getByTestId('upload-state')).toContainText('not accepted');

  await page.getByRole('link', { name: 'Quarantine' }).click();
  await ready(page);
  const row = page.getByRole('row').filter({ hasText: 'eicar.txt' });
  await expect(row).toContainText('scan');
  await expect(row).toContainText('Eicar');
  await expect(row.getByRole('cell', { name: '68 bytes', exact: true })).toBeVisible();
});

test('a guest cannot get at the file of an internal issue', async ({ page, browser }) => {
  await signUp(page, newAccount('owner'));
  const guestLink = await invite(page, uniqueEmail('guest'), 'GUEST');
  const guestContext = await browser.newContext();
  const guest = await guestContext.newPage();
  await acceptAsNewVisitor(guest, guestLink, 'Gus Guest');
  const { project, issue } = await projectWithIssue(page, 'internal');
  const members = await api(page, 'list_members', {});
  const gus = members.find((m: any) => m.display_name === 'Gus Guest');
  await api(page, 'add_project_member', { 'input[project_id]': project.id, 'input[user_id]': gus.user_id });
  const uploaded = await page.request.post(`/upload/issues/${issue.id}?name=secret.txt`, { data: 'internal notes' });
  expect(uploaded.status()).toBe(200);
  const attachment = await uploaded.json();

  const asked = await guest.request.post('/api/attachment_link', { form: { 'input[attachment_id]': attachment.id } });
  expect(asked.status()).toBe(404);
  const listed = await guest.request.post('/api/list_attachments', { form: { 'input[issue_id]': issue.id } });
  expect(listed.status()).toBe(404);
  await guest.goto(`/projects/${project.key}/issues/${issue.number}`);
  await ready(guest);
  await expect(guest.getByText('secret.txt')).toHaveCount(0);
  await guestContext.close();
});

test('a comment carries its author\'s files, and a guest sees none of an internal comment\'s', async ({ page, browser }) => {
  await signUp(page, newAccount('commenter'));
  const guestLink = await invite(page, uniqueEmail('guest'), 'GUEST');
  const guestContext = await browser.newContext();
  const guest = await guestContext.newPage();
  await acceptAsNewVisitor(guest, guestLink, 'Gia Guest');
  const { project, issue } = await projectWithIssue(page, 'public');
  const members = await api(page, 'list_members', {});
  const gia = members.find((m: any) => m.display_name === 'Gia Guest');
  await api(page, 'add_project_member', { 'input[project_id]': project.id, 'input[user_id]': gia.user_id });
  await api(page, 'add_comment', { 'input[issue_id]': issue.id, 'input[body]': 'Heap dump attached', 'input[internal]': 'true' });

  await page.goto(`/projects/${project.key}/issues/${issue.number}`);
  await ready(page);
  const comment = page.locator('.comment').filter({ hasText: 'Heap dump attached' });
  await comment.getByLabel('Attach files to comment').setInputFiles({
    name: 'heap-summary.txt', mimeType: 'text/plain', buffer: Buffer.from('retained: 2 GB in caches'),
  });
  await expect(comment.getByRole('link', { name: 'heap-summary.txt' })).toBeVisible();
  // The issue's own attachments do not list a comment's file.
  await expect(page.getByTestId('attachments').getByRole('link', { name: 'heap-summary.txt' })).toHaveCount(0);

  await guest.goto(`/projects/${project.key}/issues/${issue.number}`);
  await ready(guest);
  await expect(guest.getByRole('heading', { name: 'Activity' })).toBeVisible();
  await expect(guest.getByText('heap-summary.txt')).toHaveCount(0);
  await expect(guest.getByText('Heap dump attached')).toHaveCount(0);
  await guestContext.close();
});

test('an image pasted or dropped while writing a comment goes with that comment, not the issue', async ({ page }) => {
  await signUp(page, newAccount('paster'));
  const { project, issue } = await projectWithIssue(page, 'public');
  await page.goto(`/projects/${project.key}/issues/${issue.number}`);
  await ready(page);
  const box = page.getByLabel('New comment');
  await box.fill('The dialog overlaps the menu:');
  const bytes = await pngBytes(page, 64, 48);
  await box.evaluate((area, bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
    area.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    const dropped = new DataTransfer();
    dropped.items.add(new File([new Uint8Array(bytes)], 'menu.png', { type: 'image/png' }));
    area.dispatchEvent(new DragEvent('drop', { dataTransfer: dropped, bubbles: true, cancelable: true }));
  }, bytes);
  // Held for the comment, named, and removable; nothing went to the issue.
  const held = page.getByRole('list', { name: 'Files for the comment' });
  await expect(held.getByRole('listitem')).toHaveCount(2);
  await expect(held).toContainText(/screenshot-\d{4}-\d{2}-\d{2}-\d{6}\.png/);
  await expect(page.getByRole('status').filter({ hasText: '2 files will be attached to the comment.' })).toBeAttached();
  await expect(page.getByTestId('attachments').getByText('No files yet.')).toBeVisible();
  await expect(box).toHaveValue('The dialog overlaps the menu:');
  await expectAccessible(page);

  // Posted with Ctrl+Enter: the comment carries both images, with their thumbnails; the issue none.
  await box.press('Control+Enter');
  const comment = page.locator('.comment').filter({ hasText: 'The dialog overlaps the menu:' });
  await expect(comment.getByRole('img', { name: 'Preview of menu.png' })).toBeVisible();
  await expect(comment.getByRole('img', { name: /^Preview of screenshot-/ })).toBeVisible();
  await expect(held.getByRole('listitem')).toHaveCount(0);
  await expect(page.getByTestId('attachments').getByText('No files yet.')).toBeVisible();

  // What is being written survives the page drawing itself again (here after a file is removed).
  await box.fill('Still writing this');
  await comment.getByRole('button', { name: 'Remove attachment menu.png' }).click();
  await comment.getByRole('group', { name: /Remove menu.png for everyone/ }).getByRole('button', { name: 'Remove file' }).click();
  await expect(comment.getByRole('img', { name: 'Preview of menu.png' })).toHaveCount(0);
  await expect(page.getByLabel('New comment')).toHaveValue('Still writing this');
});

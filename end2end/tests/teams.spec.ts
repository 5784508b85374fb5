import { expect, test } from '@playwright/test';
import { acceptAsNewVisitor, api, expectAccessible, invite, newAccount, ready, signUp, uniqueEmail } from './helpers';

test('an owner invites a member and a guest, changes a role, removes the guest, who is refused next', async ({
  page,
  browser,
}) => {
  const owner = newAccount('owner');
  await signUp(page, owner);
  const memberEmail = uniqueEmail('member');
  const guestEmail = uniqueEmail('guest');
  const memberLink = await invite(page, memberEmail, 'NORMAL');
  const guestLink = await invite(page, guestEmail, 'GUEST');

  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  await acceptAsNewVisitor(member, memberLink, 'Mia Member');
  await expect(member.getByTestId('team-name')).toHaveText(owner.team);
  await expect(member.getByTestId('role')).toHaveText('Member');

  const guestContext = await browser.newContext();
  const guest = await guestContext.newPage();
  await acceptAsNewVisitor(guest, guestLink, 'Gus Guest');
  await expect(guest.getByTestId('role')).toHaveText('Guest');
  await expect(guest.getByRole('link', { name: 'Members' })).toHaveCount(0);

  // The owner sees both, and the invitations are no longer pending.
  await page.reload();
  await ready(page);
  const memberRow = page.getByRole('row').filter({ hasText: memberEmail });
  const guestRow = page.getByRole('row').filter({ hasText: guestEmail });
  await expect(memberRow).toContainText('Member');
  await expect(guestRow).toContainText('Guest');
  await expect(page.getByText('No pending invitations.')).toBeVisible();

  await memberRow.getByLabel('Role of Mia Member').selectOption('ADMIN');
  await memberRow.getByRole('button', { name: 'Change role' }).click();
  await expect(memberRow.getByRole('cell', { name: 'Admin', exact: true })).toBeVisible();

  // Removing asks first; "Cancel" (where focus lands) keeps the guest.
  await guestRow.getByRole('button', { name: 'Remove' }).click();
  const question = guestRow.getByRole('group', { name: /from the team\?/ });
  await expect(question.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(question).toHaveCount(0);
  await expect(guestRow.getByRole('button', { name: 'Remove' })).toBeFocused();
  await guestRow.getByRole('button', { name: 'Remove' }).click();
  await question.getByRole('button', { name: 'Remove from team' }).click();
  await expect(page.getByRole('row').filter({ hasText: guestEmail })).toHaveCount(0);

  // The member's next page shows the new role; the guest's next request is refused.
  await member.reload();
  await ready(member);
  await expect(member.getByTestId('role')).toHaveText('Admin');
  const refused = await guest.request.post('/api/my_teams');
  expect(refused.status()).toBe(401);
  await guest.reload();
  await expect(guest).toHaveURL(/\/signin$/);

  // The audit log tells the story.
  await page.getByRole('link', { name: 'Audit log' }).click();
  await ready(page);
  // In words: events and roles as the rest of the UI names them.
  for (const event of ['Invitation sent', 'Invitation accepted', 'Role changed', 'Member removed']) {
    await expect(page.getByRole('cell', { name: event, exact: true }).first()).toBeVisible();
  }
  await expect(page.getByRole('cell', { name: `${memberEmail}: Member to Admin`, exact: true })).toBeVisible();
  await expect(page.getByRole('cell', { name: `${guestEmail} (Guest)`, exact: true })).toBeVisible();
  // Filtered to one kind, and exported as filtered.
  await page.getByLabel('Event').selectOption({ label: 'Role changed' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByRole('cell', { name: 'Invitation sent', exact: true })).toHaveCount(0);
  await expect(page.getByRole('cell', { name: 'Role changed', exact: true }).first()).toBeVisible();
  await expect(page.getByRole('link', { name: 'Export CSV' })).toHaveAttribute('href', /\/export\/audit\.csv\?event=role_changed/);
  const exported = await page.request.get((await page.getByRole('link', { name: 'Export JSON' }).getAttribute('href'))!);
  expect(exported.status()).toBe(200);
  expect((await exported.json()).entries.every((e: any) => e.event === 'role_changed')).toBe(true);
  await memberContext.close();
  await guestContext.close();
});

test('a used invitation link is refused with a clear message', async ({ page, browser }) => {
  await signUp(page, newAccount('owner'));
  const email = uniqueEmail('once');
  const link = await invite(page, email, 'NORMAL');
  const first = await browser.newContext();
  await acceptAsNewVisitor(await first.newPage(), link, 'First');
  const second = await browser.newContext();
  const late = await second.newPage();
  await late.goto(link);
  await ready(late);
  await expect(late.getByRole('alert')).toContainText('already been used');
  await first.close();
  await second.close();
});

test('an invitation names a project the invitee lands in, and a lost link is made again', async ({ page, browser }) => {
  await signUp(page, newAccount('owner'));
  await api(page, 'create_project', { 'input[name]': 'Website', 'input[key]': 'WEB', 'input[visibility]': 'public' });
  const email = uniqueEmail('late');
  const first = await invite(page, email, 'GUEST', ['WEB · Website']);
  const row = page.getByRole('row').filter({ hasText: email });
  await expect(row.getByRole('cell', { name: 'WEB · Website' })).toBeVisible();
  await expectAccessible(page);

  // The link was lost: "New link" asks once, then shows a new link; the old one stops working.
  await row.getByRole('button', { name: `New link for ${email}` }).click();
  await page.getByRole('button', { name: 'Make a new link' }).click();
  const renewed = page.getByLabel(/^New invitation link for/);
  await expect(renewed).toHaveValue(/\/invite\/[A-Za-z0-9_-]{43}$/);
  const second = await renewed.inputValue();
  expect(second).not.toBe(first);
  await expect(page.getByRole('button', { name: 'Copy link' }).last()).toBeVisible();

  const context = await browser.newContext();
  const visitor = await context.newPage();
  await visitor.goto(first);
  await ready(visitor);
  await expect(visitor.getByRole('alert')).toContainText('not valid');
  await visitor.goto(second);
  await ready(visitor);
  await expect(visitor.getByRole('listitem').filter({ hasText: 'WEB · Website' })).toBeVisible();
  await acceptAsNewVisitor(visitor, second, 'Gail Guest');
  await visitor.getByRole('link', { name: 'Projects' }).first().click();
  await ready(visitor);
  await expect(visitor.getByRole('link', { name: 'WEB', exact: true })).toBeVisible();
  await expect(visitor.getByText('You are not in any project yet')).toHaveCount(0);
  await context.close();
});

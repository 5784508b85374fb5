// A project's webhooks as its owner manages them on the settings page: a hook to a receiver started
// here, its secret shown once, a test event received and verified with that secret, the delivery
// listed and sent again with the same id, a refused address named on its field, and the hook deleted.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { api, expectAccessible, newAccount, ready, signUp } from './helpers';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

test('an owner adds a webhook, sees its secret once, tests it, redelivers and deletes it', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const received: Received[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/moth`;

  await signUp(page, newAccount('hooks'));
  await api(page, 'create_project', { 'input[name]': 'Hooked', 'input[key]': 'HOOK', 'input[visibility]': 'public' });
  await page.goto('/projects/HOOK/settings');
  await ready(page);
  const section = page.getByRole('region', { name: 'Webhooks' });
  await expect(section.getByText('No webhooks yet.')).toBeVisible();

  // An address that is not one is refused on its field; nothing is made.
  await section.getByLabel('Address').fill('not an address');
  await section.getByRole('button', { name: 'Add webhook' }).click();
  await expect(section.getByLabel('Address')).toHaveAttribute('aria-invalid', 'true');
  await expect(section.getByText('No webhooks yet.')).toBeVisible();

  await section.getByLabel('Address').fill(address);
  await section.getByLabel('comment.created').check();
  await section.getByRole('button', { name: 'Add webhook' }).click();
  const secretField = section.getByLabel(`The signing secret of ${address}`);
  await expect(secretField).toHaveValue(/^whsec_[A-Za-z0-9+/=]{32,}$/);
  const secret = await secretField.inputValue();
  await section.getByRole('button', { name: 'Copy secret' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  const item = section.getByRole('listitem').filter({ hasText: address });
  await expect(item).toContainText('issue.created, issue.status_changed, comment.created; what a guest could read');
  await expectAccessible(page);

  // A test event reaches the receiver, signed with the secret alone.
  await item.getByRole('button', { name: 'Send test event' }).click();
  await expect.poll(() => received.length, { timeout: 15_000 }).toBe(1);
  const first = received[0];
  const id = String(first.headers['webhook-id']);
  const stamp = String(first.headers['webhook-timestamp']);
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = `v1,${createHmac('sha256', key).update(`${id}.${stamp}.${first.body}`).digest('base64')}`;
  expect(String(first.headers['webhook-signature']).split(' ')).toContain(expected);
  expect(JSON.parse(first.body).type).toBe('webhook.test');

  // Its delivery is listed; "Redeliver" sends it again with the same id.
  await item.getByRole('button', { name: 'Deliveries', exact: true }).click();
  await expect(item.getByRole('button', { name: 'Deliveries', exact: true })).toHaveAttribute('aria-expanded', 'true');
  const row = item.getByRole('row', { name: /webhook\.test/ });
  await expect(async () => {
    await item.getByRole('button', { name: 'Refresh deliveries' }).click();
    await expect(row).toContainText('received (204)', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expectAccessible(page);
  await row.getByRole('button', { name: 'Redeliver' }).click();
  await expect.poll(() => received.length, { timeout: 15_000 }).toBe(2);
  expect(received[1].headers['webhook-id']).toBe(id);

  // The secret is shown once: after a reload it is gone.
  await page.reload();
  await ready(page);
  await expect(section.getByLabel(`The signing secret of ${address}`)).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);

  await item.getByRole('button', { name: `Delete the webhook to ${address}` }).click();
  await section.getByRole('button', { name: 'Delete webhook' }).click();
  await expect(section.getByText('No webhooks yet.')).toBeVisible();
  receiver.close();
});

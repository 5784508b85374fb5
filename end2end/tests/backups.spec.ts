// An owner sees, in the app, when the team's data was last backed up and last proven restorable:
// the operator's `moth backup create` and `moth backup verify` run against the server's own data.
import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { mothBin, mothEnv } from '../moth-env';
import { newAccount, ready, signUp } from './helpers';

function moth(...args: string[]): string {
  return execFileSync(mothBin, args, { env: { ...process.env, ...mothEnv }, encoding: 'utf8' });
}

test('an owner sees the last backup and the drill that proved it', async ({ page }) => {
  const owner = newAccount('backups');
  await signUp(page, owner);
  const snapshot = moth('backup', 'create').split('\n')[0];
  expect(snapshot).toMatch(/^moth-\d{8}T\d{9}Z-[0-9a-f]{4}\.tar\.age$/);
  const verified = moth('backup', 'verify', snapshot);
  expect(verified).toContain('equal the manifest');

  await page.getByRole('link', { name: 'Backups' }).click();
  await expect(page).toHaveURL(/\/backups$/);
  await ready(page);
  const today = new Date().toISOString().slice(0, 10);
  await expect(page.getByTestId('last-backup')).toContainText(today);
  await expect(page.getByTestId('last-verified')).toContainText(today);
  await expect(page.getByTestId('last-verified')).toContainText('restored and checked in');
  await expect(page.getByTestId('restore-points').getByRole('listitem').first()).toContainText(today);
  await expect(page.getByText('The last restore drill failed')).toHaveCount(0);
});

// An owner sets the team's own bucket (on the test S3 server), exports the team's data to it
// encrypted to an age key, watches it finish, and the archive decrypts with the standard `age` tool
// to the team's data.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { newAccount, ready, signUp } from './helpers';

test('an owner exports the team to its own bucket and the archive opens with age', async ({ page, request }) => {
  const s3 = process.env.MOTH_TEST_S3_URL;
  expect(s3, 'the export test needs the test S3 server: run scripts/test').toBeTruthy();
  const bucket = `moth-e2e-${Date.now()}`;
  expect((await request.put(`${s3}/${bucket}`)).ok()).toBeTruthy();
  const work = mkdtempSync(join(tmpdir(), 'moth-export-'));
  const identity = join(work, 'identity.txt');
  execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
  const recipient = readFileSync(identity, 'utf8').match(/public key: (age1[0-9a-z]+)/)![1];

  await signUp(page, newAccount('exporter'));
  const projectName = `Exported ${Date.now()}`;
  await page.getByRole('link', { name: 'Projects' }).click();
  await ready(page);
  await page.getByRole('button', { name: 'New project' }).click();
  await page.getByLabel('Name').fill(projectName);
  await page.getByLabel('Key').fill('EXP');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(/\/projects\/EXP$/);

  await page.getByRole('link', { name: 'Backups' }).click();
  await ready(page);
  await page.getByLabel('Endpoint').fill(s3!);
  await page.getByLabel('Region').fill('us-east-1');
  await page.getByLabel('Bucket', { exact: true }).fill(bucket);
  await page.getByLabel('Key prefix').fill('exports/');
  await page.getByLabel('Access key ID').fill('moth-test');
  await page.getByLabel('Secret access key').fill('moth-test-secret');
  await page.getByRole('button', { name: 'Save bucket' }).click();
  await expect(page.getByRole('status')).toContainText('Saved.');
  await expect(page.getByLabel('Secret access key')).toHaveValue('');

  await page.getByLabel("the team's bucket").check();
  await page.getByLabel('Or an age public key').fill(recipient);
  await page.getByRole('button', { name: 'Export now' }).click();
  const row = page.getByTestId('exports').locator('tbody tr').first();
  await expect(row.locator('progress')).toBeVisible();
  await expect(row).toHaveAttribute('data-status', 'done', { timeout: 30_000 });
  await expect(row.locator('progress')).toHaveAttribute('value', '100');
  await expect(row).toContainText(`s3://${bucket}/exports/moth-export-`);

  const listing = await (await request.get(`${s3}/${bucket}?list-type=2`)).text();
  const key = listing.match(/<Key>(exports\/moth-export-[^<]+)<\/Key>/)![1];
  const archive = join(work, 'export.tar.age');
  // Objects are private: fetched with the bucket's credentials, by boto3 (installed with moto).
  const python = process.env.MOTH_TEST_PYTHON ?? `${process.env.HOME}/.cache/moth/py/bin/python`;
  const download =
    'import boto3, sys; boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1", ' +
    'aws_access_key_id="moth-test", aws_secret_access_key="moth-test-secret")' +
    '.download_file(sys.argv[2], sys.argv[3], sys.argv[4])';
  execFileSync(python, ['-c', download, s3!, bucket, key, archive]);
  const tar = join(work, 'export.tar');
  execFileSync('age', ['-d', '-i', identity, '-o', tar, archive]);
  const listed = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' });
  expect(listed).toContain('data/projects.json');
  expect(listed).toContain('manifest.json');
  const projects = execFileSync('tar', ['-xOf', tar, 'data/projects.json'], { encoding: 'utf8' });
  expect(projects).toContain(projectName);
});

// The Playwright reporter (clients/playwright-reporter) as a team's CI would use it: a tiny suite with
// one passing, one failing and one flaky test runs through it against this live Moth, with a token
// made on the server. Its issues, comments and files are then read back through the REST API; a
// second run comments instead of filing again; a run where the failing test passes says so, once;
// and a run against an unreachable Moth keeps the suite's own result and says so once.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { APIRequestContext, expect, test } from '@playwright/test';
import { api, newAccount, signUp } from './helpers';

const reporterDir = path.resolve(__dirname, '../../clients/playwright-reporter');

interface Run {
  code: number;
  stderr: string;
}

/** Runs the sample suite once through the reporter. */
function runSample(run: number, env: Record<string, string>): Promise<Run> {
  const output = mkdtempSync(path.join(os.tmpdir(), 'moth-reporter-'));
  const cli = path.join(reporterDir, 'node_modules/@playwright/test/cli.js');
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
    MOTH_SAMPLE_RUN: String(run),
    MOTH_SAMPLE_OUTPUT: output,
    ...(process.env.CHROMIUM_PATH ? { CHROMIUM_PATH: process.env.CHROMIUM_PATH } : {}),
    ...env,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, 'test', '-c', 'e2e/playwright.config.ts'],
      { cwd: reporterDir, env: childEnv, timeout: 120_000 },
      (error, _stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stderr });
      },
    );
  });
}

async function json(moth: APIRequestContext, url: string): Promise<any> {
  const response = await moth.get(url);
  expect(response.status(), `${url}: ${await response.text()}`).toBe(200);
  return response.json();
}

test('the reporter files a failing and a flaky test once, comments on later runs, and never fails a run', async ({
  page,
  playwright,
  baseURL,
}) => {
  test.setTimeout(300_000);
  await signUp(page, newAccount('reporter'));
  await api(page, 'create_project', { 'input[name]': 'Suite', 'input[key]': 'PW', 'input[visibility]': 'private' });
  const made = await api(page, 'create_access_token', {
    'input[name]': 'CI',
    'input[scopes][0]': 'read',
    'input[scopes][1]': 'write',
  });
  const env = { MOTH_URL: baseURL!, MOTH_TOKEN: made.secret, MOTH_PROJECT: 'PW' };
  const moth = await playwright.request.newContext({
    baseURL,
    extraHTTPHeaders: { Authorization: `Bearer ${made.secret}` },
  });
  const issues = async () => json(moth, '/api/v1/projects/PW/issues?tag=playwright');
  const byTitle = (list: any[], title: string) => list.find((i) => i.title === title);
  const failingTitle = 'checkout › pays by card [chromium]';
  const flakyTitle = 'checkout › loads the basket [chromium]';

  // First run: the suite fails on its own (exit 1), and two issues are filed.
  const first = await runSample(1, env);
  expect(first.code, first.stderr).toBe(1);
  expect(first.stderr).not.toContain('[moth reporter]');
  const filed = await issues();
  expect(filed.map((i: any) => i.title).sort()).toEqual([flakyTitle, failingTitle].sort());
  const failing = byTitle(filed, failingTitle);
  const flaky = byTitle(filed, flakyTitle);
  expect(failing.tags).toEqual(['playwright']);
  expect(flaky.tags.sort()).toEqual(['flaky', 'playwright']);

  const detail = await json(moth, `/api/v1/projects/PW/issues/${failing.number}`);
  const description: string = detail.issue.description;
  expect(description).toContain('Failing step: `the receipt is shown › Expect "toHaveText"`');
  expect(description).toContain('2 attempts, 1 retry allowed; failed on every attempt');
  expect(description).toContain('Receipt');
  expect(description).toMatch(/- File: `checkout\.spec\.ts:\d+`/);
  expect(description).toMatch(/moth-test-[0-9a-f]{20}/);
  expect(description).not.toMatch(/\u001b\[/);
  expect(detail.issue.environment.browser).toBe('chromium');
  expect(detail.issue.environment.os).toContain(os.type());
  expect(detail.issue.environment.device).toBe('1280×720');
  expect(detail.issue.environment.app_version).toBe('sample 1.0');
  const flakyDetail = await json(moth, `/api/v1/projects/PW/issues/${flaky.number}`);
  expect(flakyDetail.issue.description).toContain('passed on retry 1');

  const files = async (number: number) =>
    (await json(moth, `/api/v1/projects/PW/issues/${number}/attachments`)).map((a: any) => a.name).sort();
  expect(await files(failing.number)).toEqual([
    'retry1-error-context.txt',
    'retry1-screenshot.png',
    'retry1-trace.zip',
    'retry1-video.webm',
  ]);
  expect(await files(flaky.number)).toEqual(['retry0-error-context.txt', 'retry0-screenshot.png', 'retry0-trace.zip']);

  // Second run, same results: nothing new is filed; each issue gets a comment.
  const second = await runSample(2, env);
  expect(second.code, second.stderr).toBe(1);
  expect((await issues()).length).toBe(2);
  const comments = async (number: number) =>
    (await json(moth, `/api/v1/projects/PW/issues/${number}/comments`)).map((c: any) => c.body as string);
  const failingComments = await comments(failing.number);
  expect(failingComments).toHaveLength(1);
  expect(failingComments[0]).toMatch(/^Failed again in the run of /);
  expect(failingComments[0]).toContain('Failing step: `the receipt is shown ›');
  expect(await comments(flaky.number)).toEqual([expect.stringMatching(/^Was flaky again/)]);

  // Third run: the failing test passes; its issue hears so. A fourth run does not say it again.
  const third = await runSample(3, env);
  expect(third.code, third.stderr).toBe(0); // a flaky test does not fail a run
  expect((await comments(failing.number)).at(-1)).toMatch(/^Passed again in the run of /);
  await runSample(4, env);
  expect((await comments(failing.number)).filter((c: string) => c.startsWith('Passed again'))).toHaveLength(1);
  expect((await issues()).length).toBe(2);

  // Moth unreachable: the suite's own result stands, and the reporter says so once.
  const offline = await runSample(1, { ...env, MOTH_URL: 'http://127.0.0.1:9' });
  expect(offline.code, offline.stderr).toBe(1);
  expect(offline.stderr.match(/\[moth reporter\] Moth at http:\/\/127\.0\.0\.1:9 could not be reached/g)).toHaveLength(1);
  const passing = await runSample(3, { ...env, MOTH_URL: 'http://127.0.0.1:9' });
  expect(passing.stderr).toContain('could not be reached');
  await moth.dispose();
});

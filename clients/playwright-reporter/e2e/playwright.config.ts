// A tiny suite run through the reporter by end2end/tests/reporter.spec.ts, against a live Moth:
// one test passes, one fails (until MOTH_SAMPLE_RUN is 3 or more), one fails on its first attempt
// and passes on the retry. The driver sets MOTH_URL, MOTH_TOKEN and MOTH_PROJECT.
import * as path from 'node:path';
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './sample',
  outputDir: process.env.MOTH_SAMPLE_OUTPUT ?? './test-results',
  timeout: 30_000,
  retries: 1,
  workers: 1,
  reporter: [['line'], [path.join(__dirname, '..', 'dist', 'index.js'), { appVersion: 'sample 1.0' }]],
  use: {
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium', viewport: { width: 1280, height: 720 } } }],
});

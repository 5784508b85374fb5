// Runs against the real `moth` binary and the Trunk-built front end; scripts/test sets the
// variables below. Chromium is Debian's: Playwright never downloads a browser here.
import { defineConfig } from '@playwright/test';

const port = Number(process.env.MOTH_E2E_PORT ?? 3950);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  webServer: {
    command: `${process.env.MOTH_BIN ?? '../target/debug/moth'} serve`,
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    env: {
      MOTH_BIND: `127.0.0.1:${port}`,
      MOTH_SITE_DIR: process.env.MOTH_SITE_DIR ?? '../dist',
      DATABASE_URL: process.env.DATABASE_URL ?? `sqlite:/tmp/moth-e2e-${port}/moth.db`,
      MOTH_FILES_BIND: '127.0.0.1:0',
      // Every test signs in from 127.0.0.1 against one server; bans are tested by the API suite.
      MOTH_BAN_FAILURES: '100000',
      MOTH_FILES_DIR: `/tmp/moth-e2e-${port}/files`,
      MOTH_MASTER_KEY_FILE: `/tmp/moth-e2e-${port}/master.key`,
      MOTH_BACKUP_DIR: `/tmp/moth-e2e-${port}/backups`,
      MOTH_BACKUP_RECIPIENTS_FILE: `/tmp/moth-e2e-${port}/backup-recipients.txt`,
      MOTH_BACKUP_IDENTITY_FILE: `/tmp/moth-e2e-${port}/backup-identity.txt`,
      ...(process.env.MOTH_TEST_CLAMD_URL ? { MOTH_CLAMD_URL: process.env.MOTH_TEST_CLAMD_URL } : {}),
    },
  },
});

// The server's settings, shared by playwright.config.ts (which starts `moth serve` with them) and by
// tests that run `moth` commands against the same data (backups.spec.ts).
export const port = Number(process.env.MOTH_E2E_PORT ?? 3950);
export const mothBin = process.env.MOTH_BIN ?? '../target/debug/moth';

export const mothEnv: Record<string, string> = {
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
  MOTH_EXPORTS_DIR: `/tmp/moth-e2e-${port}/exports`,
  // The test S3 server (moto) listens on 127.0.0.1, which teams may not export to by default.
  MOTH_EXPORT_ALLOW_PRIVATE_ENDPOINTS: 'true',
  ...(process.env.MOTH_TEST_CLAMD_URL ? { MOTH_CLAMD_URL: process.env.MOTH_TEST_CLAMD_URL } : {}),
};

// Moth's Playwright reporter: at the end of a run, each failing or flaky test becomes one Moth issue
// in the configured project (found again by a stable id on later runs), with the error, the failing
// step, the retry count, the browser and OS, and its screenshot and trace attached. A test that fails
// again comments on its open issue; one that passes again says so once. Whatever happens to Moth, the
// run's own result stands: this reporter never throws and never sets the exit code.
//
//   // playwright.config.ts
//   reporter: [['list'], ['@moth/playwright-reporter', { url: 'https://moth.example', project: 'WEB' }]],
//   // and MOTH_TOKEN in the environment: a token with the `read` and `write` scopes.

import { createHash, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

import type {
  FullConfig,
  FullProject,
  Reporter,
  Suite,
  TestCase,
  TestResult,
  TestStep,
} from '@playwright/test/reporter';

import { IssueSummary, Moth, MothError, Unreachable } from './moth';

export interface MothReporterOptions {
  /** Moth's address; else `MOTH_URL`. */
  url?: string;
  /** An access token (`moth_pat_…`, scopes read and write); else `MOTH_TOKEN`. Prefer the variable. */
  token?: string;
  /** The project's key; else `MOTH_PROJECT`. */
  project?: string;
  /** The tag every issue of the reporter carries (default `playwright`). */
  tag?: string;
  /** The tag a flaky test's issue gets (default `flaky`). */
  flakyTag?: string;
  /** The version of what is tested, for the issue's environment; else `MOTH_APP_VERSION`. */
  appVersion?: string;
  /** Each request's time limit (default 15 s). */
  timeoutMs?: number;
  /** At most this many tests are filed or commented per run (default 50), so that a broken build
   * does not file the whole suite. */
  maxIssues?: number;
}

/** The file types Moth takes (`app/src/model/files.rs`); others are named in the issue, not sent. */
const ACCEPTED = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp', 'pdf', 'txt', 'log', 'csv', 'json', 'zip', 'webm']);
/** Moth's largest upload. */
const MAX_FILE_BYTES = 20 * 1024 * 1024;
/** The marker each issue's description carries, followed by the test's id. */
const MARKER = 'moth-test-';
const TITLE_MAX = 200;
const ENV_MAX = 100;
const ERROR_MAX = 6000;

type Verdict = 'failed' | 'flaky' | 'passed';

/** A file of the failing attempt that Moth takes. */
interface File {
  name: string;
  size: number;
  read: () => Promise<Uint8Array>;
}

interface Outcome {
  test: TestCase;
  verdict: Verdict;
  id: string;
  title: string;
  /** The attempt that failed (the last one that did), for a failed or flaky test. */
  failure?: TestResult;
}

export default class MothReporter implements Reporter {
  private readonly options: MothReporterOptions;
  private config?: FullConfig;
  private suite?: Suite;
  private readonly run = randomUUID();
  private readonly started = new Date();

  constructor(options: MothReporterOptions = {}) {
    this.options = options;
  }

  printsToStdio(): boolean {
    return false;
  }

  onBegin(config: FullConfig, suite: Suite): void {
    this.config = config;
    this.suite = suite;
  }

  async onEnd(): Promise<void> {
    const url = this.options.url ?? process.env.MOTH_URL;
    const token = this.options.token ?? process.env.MOTH_TOKEN;
    const project = this.options.project ?? process.env.MOTH_PROJECT;
    if (!url || !token || !project) {
      warn('not configured (url, token and project, or MOTH_URL, MOTH_TOKEN and MOTH_PROJECT); nothing is filed.');
      return;
    }
    if (!this.suite || !this.config) return;
    const moth = new Moth(url, token, project, this.options.timeoutMs ?? 15_000);
    try {
      await this.report(moth, this.outcomes(this.suite, this.config));
    } catch (e) {
      if (e instanceof Unreachable) {
        warn(`Moth at ${url} could not be reached (${e.message}); this run's results are not filed.`);
      } else if (e instanceof MothError) {
        warn(`Moth refused a request (${e.message}); the rest of this run's results are not filed.`);
      } else {
        warn(`could not file this run's results (${e instanceof Error ? e.message : String(e)}).`);
      }
    }
  }

  /** What each test came to, with its stable id. */
  private outcomes(suite: Suite, config: FullConfig): Outcome[] {
    const outcomes: Outcome[] = [];
    for (const test of suite.allTests()) {
      const outcome = test.outcome();
      if (outcome === 'skipped') continue;
      const verdict: Verdict = outcome === 'unexpected' ? 'failed' : outcome === 'flaky' ? 'flaky' : 'passed';
      const project = test.parent.project()?.name ?? '';
      const file = path.relative(config.rootDir, test.location.file).split(path.sep).join('/');
      const names = test.titlePath().slice(3).filter(Boolean); // after root, project and file
      const id = createHash('sha256').update(`${file}\n${names.join('\n')}\n${project}`).digest('hex').slice(0, 20);
      const title = cut(`${names.join(' › ')}${project ? ` [${project}]` : ''}`, TITLE_MAX);
      const failure = [...test.results].reverse().find((r) => r.status !== 'passed' && r.status !== 'skipped');
      outcomes.push({ test, verdict, id, title, failure: verdict === 'passed' ? undefined : failure });
    }
    return outcomes;
  }

  private async report(moth: Moth, outcomes: Outcome[]): Promise<void> {
    const tag = this.options.tag ?? 'playwright';
    const bad = outcomes.filter((o) => o.verdict !== 'passed');
    const limit = this.options.maxIssues ?? 50;
    if (bad.length > limit) {
      warn(`${bad.length} tests failed; only the first ${limit} are filed (maxIssues).`);
    }
    for (const outcome of bad.slice(0, limit)) {
      await this.fileOrComment(moth, outcome, tag);
    }
    // Passing tests: only those whose title an open issue of the reporter has are looked at closely.
    const passed = outcomes.filter((o) => o.verdict === 'passed');
    if (passed.length === 0) return;
    const open = (await moth.tagged(tag, 2000)).filter((i) => i.status.category !== 'done');
    for (const outcome of passed) {
      for (const issue of open.filter((i) => i.title === outcome.title)) {
        await this.passedAgain(moth, issue, outcome);
      }
    }
  }

  /** The open issue of a test, if there is one (the newest). */
  private async openIssue(moth: Moth, id: string): Promise<IssueSummary | undefined> {
    const found = await moth.search(MARKER + id);
    return found.filter((i) => i.status.category !== 'done').sort((a, b) => b.created_at - a.created_at)[0];
  }

  private async fileOrComment(moth: Moth, outcome: Outcome, tag: string): Promise<void> {
    const flakyTag = this.options.flakyTag ?? 'flaky';
    const existing = await this.openIssue(moth, outcome.id);
    const { files, skipped } = await filesOf(outcome.failure);
    let number: number;
    if (existing) {
      number = existing.number;
      const word = outcome.verdict === 'flaky' ? 'Was flaky again' : 'Failed again';
      const body = `${word} in the run of ${this.started.toISOString()} (${this.retries(outcome)}).\n\n${this.errorBlock(outcome)}`;
      await moth.comment(number, body, `${this.run}:${outcome.id}:comment`);
      if (outcome.verdict === 'flaky' && !existing.tags.includes(flakyTag)) {
        await moth.setTags(number, [...existing.tags, flakyTag].slice(0, 20));
      }
    } else {
      const tags = outcome.verdict === 'flaky' ? [tag, flakyTag] : [tag];
      const created = await moth.fileIssue(
        {
          title: outcome.title,
          description: this.description(outcome, skipped),
          kind: 'bug',
          tags,
          environment: this.environment(outcome.test),
        },
        `${this.run}:${outcome.id}:issue`,
      );
      number = created.number;
    }
    await attachFiles(moth, number, files);
    if (skipped.length) warn(`not attached to issue ${number}: ${skipped.join(', ')}`);
  }

  private async passedAgain(moth: Moth, issue: IssueSummary, outcome: Outcome): Promise<void> {
    const detail = await moth.issue(issue.number);
    if (!detail.issue.description.includes(MARKER + outcome.id)) return; // another test of that title
    const last = detail.comments[detail.comments.length - 1];
    if (last?.body.startsWith('Passed again')) return; // said once; it stays open for people to close
    await moth.comment(
      issue.number,
      `Passed again in the run of ${this.started.toISOString()}.`,
      `${this.run}:${outcome.id}:passed`,
    );
  }

  private retries(outcome: Outcome): string {
    const attempts = outcome.test.results.length;
    const retries = outcome.test.retries;
    const where = outcome.verdict === 'flaky' ? `passed on retry ${attempts - 1}` : `failed on every attempt`;
    return `${attempts} attempt${attempts === 1 ? '' : 's'}, ${retries} retr${retries === 1 ? 'y' : 'ies'} allowed; ${where}`;
  }

  private errorBlock(outcome: Outcome): string {
    const result = outcome.failure;
    const error = result?.errors[0] ?? result?.error;
    const text = cut(plain(error?.stack ?? error?.message ?? 'No error was recorded.'), ERROR_MAX);
    // The test's own steps that failed (`test.step`), then the action or assertion inside them.
    const chain = failingSteps(result?.steps ?? []);
    const named = chain.filter((step, n) => step.category === 'test.step' || n === chain.length - 1);
    const stepLine = named.length ? `Failing step: \`${oneLine(named.map((s) => s.title).join(' › '))}\`\n\n` : '';
    return `${stepLine}\`\`\`text\n${text.replace(/```/g, "'''")}\n\`\`\``;
  }

  private description(outcome: Outcome, skipped: string[]): string {
    const { test } = outcome;
    const file = path.relative(this.config?.rootDir ?? '', test.location.file).split(path.sep).join('/');
    const what = outcome.verdict === 'flaky' ? 'was flaky (it failed, then passed on a retry)' : 'failed';
    const lines = [
      `The Playwright test \`${oneLine(test.titlePath().slice(3).join(' › '))}\` ${what}.`,
      '',
      `- File: \`${file}:${test.location.line}\``,
      `- Project: \`${test.parent.project()?.name ?? ''}\``,
      `- Attempts: ${this.retries(outcome)}`,
      `- Run: ${this.started.toISOString()}`,
      '',
      this.errorBlock(outcome),
      '',
    ];
    if (skipped.length) lines.push(`Not attached: ${skipped.join(', ')}.`, '');
    lines.push(`${MARKER}${outcome.id} (the reporter finds this issue again by this line; keep it)`);
    return lines.join('\n');
  }

  private environment(test: TestCase): Record<string, string> {
    const project: FullProject | undefined = test.parent.project();
    const use = project?.use ?? {};
    const browser = [use.browserName ?? 'chromium', use.channel ? `(${use.channel})` : ''].join(' ').trim();
    const viewport = use.viewport ? `${use.viewport.width}×${use.viewport.height}` : '';
    const device = [use.isMobile ? 'mobile' : '', viewport].filter(Boolean).join(' ');
    const baseURL = typeof use.baseURL === 'string' && /^https?:\/\//.test(use.baseURL) ? use.baseURL : '';
    return {
      browser: cut(browser, ENV_MAX),
      os: cut(`${os.type()} ${os.release()} (${os.arch()})`, ENV_MAX),
      device: cut(device, ENV_MAX),
      app_version: cut(this.options.appVersion ?? process.env.MOTH_APP_VERSION ?? '', ENV_MAX),
      url: baseURL.length <= 2000 ? baseURL : '',
    };
  }
}

/** The failing attempt's screenshot, trace and other files that Moth takes, and those it does not
 * (named in the issue instead). */
async function filesOf(result: TestResult | undefined): Promise<{ files: File[]; skipped: string[] }> {
  const files: File[] = [];
  const skipped: string[] = [];
  for (const attachment of result?.attachments ?? []) {
    const { path: file, body } = attachment;
    if (!file && !body) continue;
    const name = fileName(attachment.name, file, attachment.contentType, result?.retry ?? 0);
    const extension = name.split('.').pop()?.toLowerCase() ?? '';
    if (!ACCEPTED.has(extension)) {
      skipped.push(`${name} (Moth does not take .${extension} files)`);
      continue;
    }
    const size = file ? (await stat(file)).size : (body?.length ?? 0);
    if (size > MAX_FILE_BYTES) {
      skipped.push(`${name} (larger than Moth's 20 MiB)`);
      continue;
    }
    const read = async () => new Uint8Array(file ? await readFile(file) : (body ?? Buffer.alloc(0)));
    files.push({ name, size, read });
  }
  return { files, skipped };
}

/** Sends each file once: one of the same name and size already on the issue is not sent again (a
 * retried run, or a retry after a lost answer: uploads take no Idempotency-Key). */
async function attachFiles(moth: Moth, number: number, files: File[]): Promise<void> {
  if (files.length === 0) return;
  const present = await moth.attachments(number);
  for (const file of files) {
    if (present.some((p) => p.name === file.name && p.size === file.size)) continue;
    try {
      await moth.attach(number, file.name, await file.read());
    } catch (e) {
      if (!(e instanceof MothError)) throw e;
      warn(`${file.name} was not attached to issue ${number}: ${e.message}`);
    }
  }
}

/** The steps that failed, from the outermost to the deepest. */
function failingSteps(steps: TestStep[]): TestStep[] {
  for (const step of steps) {
    if (step.error) return [step, ...failingSteps(step.steps)];
  }
  return [];
}

/** A name for an attachment Moth keeps: the attempt, then Playwright's name with its extension. */
function fileName(name: string, file: string | undefined, contentType: string, retry: number): string {
  const fromPath = file ? path.extname(file).slice(1) : '';
  const fromType: Record<string, string> = {
    'image/png': 'png',
    'image/jpeg': 'jpg',
    'video/webm': 'webm',
    'application/zip': 'zip',
    'text/plain': 'txt',
    'text/markdown': 'md',
    'application/json': 'json',
  };
  // Markdown (Playwright's error context: the page's accessibility snapshot) is kept as text.
  const named = fromPath || fromType[contentType] || 'bin';
  const extension = named === 'md' ? 'txt' : named;
  const base = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'attachment';
  const stem = base.toLowerCase().endsWith(`.${named}`) ? base.slice(0, -named.length - 1) : base;
  return `retry${retry}-${stem}.${extension}`.slice(-120);
}

/** Text without the terminal's colour codes. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}

function oneLine(text: string): string {
  return text.replace(/[\r\n`]+/g, ' ');
}

function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, max - 1).join('') + '…';
}

let warned = 0;
/** Says what went wrong, on stderr, a few times a run at most. */
function warn(message: string): void {
  if (warned++ < 5) console.error(`[moth reporter] ${message}`);
}

// A small client of Moth's REST API (`/api/v1`, docs/api.md): only what the reporter needs, each
// request bounded in time and retried a few times when Moth is busy or the network drops one.

/** An issue as the issue list answers it (the fields the reporter reads). */
export interface IssueSummary {
  id: string;
  reference: string;
  number: number;
  title: string;
  tags: string[];
  status: { category: 'open' | 'in_progress' | 'done' };
  created_at: number;
}

export interface IssueDetail {
  issue: { description: string; tags: string[] };
  comments: { body: string; author: { id: string } }[];
}

export interface Attachment {
  name: string;
  size: number;
}

/** Moth answered with an error: its code and message (never retried further). */
export class MothError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

/** Moth could not be reached, or kept answering that it is busy. */
export class Unreachable extends Error {}

const ATTEMPTS = 3;

export class Moth {
  private readonly base: string;

  constructor(
    url: string,
    private readonly token: string,
    readonly project: string,
    private readonly timeoutMs: number,
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  private issuesPath(): string {
    return `/api/v1/projects/${encodeURIComponent(this.project)}/issues`;
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, ...extra };
    let payload: string | Uint8Array | undefined;
    if (body instanceof Uint8Array) {
      payload = body;
      headers['Content-Type'] = 'application/octet-stream';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
    let last = '';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      let response: Response;
      try {
        response = await fetch(this.base + path, {
          method,
          headers,
          body: payload,
          redirect: 'error',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (e) {
        last = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
        await pause(attempt);
        continue;
      }
      // Busy, rate-limited, or a request still running under the same Idempotency-Key: wait and retry.
      if ([408, 409, 429, 502, 503, 504].includes(response.status) && attempt < ATTEMPTS) {
        const wait = Number(response.headers.get('Retry-After') ?? '0');
        await response.body?.cancel();
        last = `HTTP ${response.status}`;
        await pause(attempt, Math.min(wait, 10) * 1000);
        continue;
      }
      if (!response.ok) {
        const text = await response.text();
        let code = 'error';
        let message = text.slice(0, 300);
        try {
          const parsed = JSON.parse(text) as { code?: string; message?: string };
          code = parsed.code ?? code;
          message = parsed.message ?? message;
        } catch {
          // Not Moth's error shape (a proxy's page): kept as text.
        }
        if (response.status >= 500) throw new Unreachable(`${response.status} ${message}`);
        throw new MothError(response.status, code, message);
      }
      return response;
    }
    throw new Unreachable(last);
  }

  /** Every issue of the project with `tag`, up to `limit`. */
  async tagged(tag: string, limit: number): Promise<IssueSummary[]> {
    const found: IssueSummary[] = [];
    let path: string | undefined = `${this.issuesPath()}?tag=${encodeURIComponent(tag)}`;
    while (path && found.length < limit) {
      const response = await this.request('GET', path);
      found.push(...((await response.json()) as IssueSummary[]));
      path = nextLink(response.headers.get('Link'), this.base);
    }
    return found;
  }

  /** The project's issues whose text holds `text` (one page). */
  async search(text: string): Promise<IssueSummary[]> {
    const response = await this.request('GET', `${this.issuesPath()}?q=${encodeURIComponent(text)}`);
    return (await response.json()) as IssueSummary[];
  }

  async issue(number: number): Promise<IssueDetail> {
    return (await (await this.request('GET', `${this.issuesPath()}/${number}`)).json()) as IssueDetail;
  }

  /** Files an issue; `key` makes a retried request answer the first one's issue. */
  async fileIssue(fields: Record<string, unknown>, key: string): Promise<IssueSummary> {
    const response = await this.request('POST', this.issuesPath(), fields, { 'Idempotency-Key': key });
    return (await response.json()) as IssueSummary;
  }

  async setTags(number: number, tags: string[]): Promise<void> {
    await this.request('PATCH', `${this.issuesPath()}/${number}`, { tags });
  }

  async comment(number: number, body: string, key: string): Promise<void> {
    await this.request('POST', `${this.issuesPath()}/${number}/comments`, { body }, { 'Idempotency-Key': key });
  }

  async attachments(number: number): Promise<Attachment[]> {
    return (await (await this.request('GET', `${this.issuesPath()}/${number}/attachments`)).json()) as Attachment[];
  }

  async attach(number: number, name: string, bytes: Uint8Array): Promise<void> {
    await this.request('POST', `${this.issuesPath()}/${number}/attachments?name=${encodeURIComponent(name)}`, bytes);
  }
}

/** The `rel="next"` address of an RFC 8288 `Link` header, as a path on Moth. */
function nextLink(header: string | null, base: string): string | undefined {
  const match = header?.match(/<([^>]+)>;\s*rel="next"/);
  if (!match) return undefined;
  const target = new URL(match[1], base + '/');
  return target.pathname + target.search;
}

function pause(attempt: number, atLeastMs = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(atLeastMs, 250 * 2 ** attempt)));
}

/**
 * A browser as the instances see it behind one load balancer: one `sid` cookie, sent to whichever
 * instance the test picks. Redirects are returned, not followed.
 */
export class Browser {
  cookie: string | undefined;

  async get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.send(url, { method: 'GET', headers });
  }

  async post(url: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.send(url, { method: 'POST', headers });
  }

  /** The session id inside the signed cookie (`s:<id>.<signature>`). */
  sessionId(): string {
    const value = decodeURIComponent(this.cookie ?? '');
    if (!value.startsWith('s:')) throw new Error('no session cookie yet');
    return value.slice(2, value.lastIndexOf('.'));
  }

  private async send(url: string, init: { method: string; headers: Record<string, string> }): Promise<Response> {
    const headers = { ...init.headers, ...(this.cookie ? { cookie: `sid=${this.cookie}` } : {}) };
    const res = await fetch(url, { method: init.method, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const match = /^sid=([^;]*)/.exec(line);
      if (match) this.cookie = match[1];
    }
    return res;
  }
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

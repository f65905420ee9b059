import type { Hono } from 'hono';

/** A browser in miniature over app.request: a cookie jar, forms with the page's CSRF token, the Origin a browser sends. */
export class TestClient {
  readonly cookies = new Map<string, string>();
  lastSetCookies: string[] = [];

  constructor(private readonly app: Hono, private readonly origin = 'http://ui.test') {}

  async get(path: string): Promise<Response> {
    return this.send('GET', path);
  }

  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.send('POST', path, new URLSearchParams(form).toString(), { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin, ...headers });
  }

  /** The _csrf value of the first form on the page at `path`. */
  async csrf(path = '/ui'): Promise<string> {
    const text = await (await this.get(path)).text();
    const found = /name="_csrf" value="([^"]+)"/.exec(text);
    if (!found?.[1]) throw new Error(`no CSRF field on ${path}`);
    return found[1];
  }

  async signIn(token: string): Promise<Response> {
    const csrf = await this.csrf('/ui/login');
    return this.post('/ui/login', { _csrf: csrf, token });
  }

  private async send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await this.app.request(`${this.origin}${path}`, { method, body, headers: { host: new URL(this.origin).host, ...(cookie ? { cookie } : {}), ...headers } });
    this.lastSetCookies = res.headers.getSetCookie();
    for (const line of this.lastSetCookies) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}

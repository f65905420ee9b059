import { afterEach, describe, expect, it } from 'vitest';
import { classifyResponse, MAX_RESPONSE_BYTES, parseRetryAfter, safePost } from './safe-http.js';
import { signal, startReceiver, type Receiver } from './testing/receiver.js';

let receiver: Receiver;
afterEach(() => receiver?.close());

const post = (url: string, extra: Partial<Parameters<typeof safePost>[0]> = {}) =>
  safePost({ url, body: '{"a":1}', headers: { 'content-type': 'application/json' }, signal: signal(), ...extra });

describe('safePost', () => {
  it('sends the body and headers and treats 2xx as delivered', async () => {
    receiver = await startReceiver((_req, res) => { res.statusCode = 204; res.end(); });
    expect(await post(`${receiver.url}/hook`)).toEqual({ ok: true, detail: expect.stringContaining('answered 204') });
    expect(receiver.received).toMatchObject([{ method: 'POST', path: '/hook', body: '{"a":1}', headers: { 'content-type': 'application/json' } }]);
  });

  it('does not follow a redirect and names where it pointed, without its query', async () => {
    receiver = await startReceiver((req, res) => {
      res.writeHead(302, { location: `${receiver.url}/elsewhere?token=s3cret-token` }).end();
    });
    const result = await post(`${receiver.url}/hook`);
    expect(result).toMatchObject({ ok: false, retryable: false });
    if (result.ok) return;
    expect(result.error).toContain('302');
    expect(result.error).toContain(`${receiver.url}/elsewhere`);
    expect(result.error).not.toContain('s3cret-token');
    expect(receiver.received.map((r) => r.path)).toEqual(['/hook']);
  });

  it('retries 5xx, 408, 425 and 429; not other 4xx, whose error carries the first 200 characters of the body', async () => {
    let status = 500;
    receiver = await startReceiver((_req, res) => { res.statusCode = status; res.end(`reason ${'x'.repeat(300)}`); });
    for (const s of [500, 502, 408, 425, 429]) {
      status = s;
      expect(await post(receiver.url), String(s)).toMatchObject({ ok: false, retryable: true });
    }
    status = 400;
    const result = await post(receiver.url);
    expect(result).toMatchObject({ ok: false, retryable: false });
    if (!result.ok) expect(result.error).toBe(`${new URL(receiver.url).host} answered 400: reason ${'x'.repeat(193)}`);
  });

  it('honours Retry-After on 429 and 503', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(429, { 'retry-after': '7' }).end());
    expect(await post(receiver.url)).toMatchObject({ ok: false, retryable: true, retryAfterMs: 7000 });
    expect(parseRetryAfter(new Date(61_000).toUTCString(), 1_000)).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(classifyResponse({ status: 503, headers: { 'retry-after': '2' }, body: '', truncated: false }, 'h')).toMatchObject({ retryAfterMs: 2000 });
  });

  it('gives up on a server that never answers, as retryable', async () => {
    receiver = await startReceiver(() => {});
    const started = Date.now();
    const result = await post(receiver.url, { timeoutMs: 150 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('within 150 ms') });
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    receiver = await startReceiver(() => controller.abort());
    expect(await post(receiver.url, { signal: controller.signal })).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('cancelled') });
  });

  it('reads at most 64 KiB of a 10 MB answer and drops the connection', async () => {
    const total = 10 * 1024 * 1024;
    let written = 0;
    let resolveClosed!: (finished: boolean) => void;
    const closed = new Promise<boolean>((resolve) => { resolveClosed = resolve; });
    receiver = await startReceiver((_req, res) => {
      res.writeHead(400, { 'content-length': String(total) });
      const chunk = Buffer.alloc(64 * 1024, 'y');
      const pump = (): void => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => resolveClosed(res.writableFinished));
      pump();
    });
    const result = await post(receiver.url);
    expect(result).toMatchObject({ ok: false, retryable: false });
    if (!result.ok) expect(result.error.length).toBeLessThan(300);
    expect(await closed).toBe(false);
    expect(written).toBeLessThan(total);
    expect(MAX_RESPONSE_BYTES).toBe(65_536);
  });

  it('refuses a link-local URL and a URL with credentials before connecting', async () => {
    expect(await post('http://169.254.169.254/latest/meta-data/')).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('link-local') });
    expect(await post('http://u:pw-secret@127.0.0.1:1/')).toMatchObject({ ok: false, retryable: false });
  });

  it('treats a refused connection as retryable and keeps the URL path out of the error', async () => {
    receiver = await startReceiver();
    const url = `${receiver.url}/services/T000/B000/XXXXsecret`;
    await receiver.close();
    const result = await post(url);
    expect(result).toMatchObject({ ok: false, retryable: true });
    if (!result.ok) expect(result.error).not.toContain('XXXXsecret');
  });

  it('refuses a header that cannot be sent, as not retryable', async () => {
    receiver = await startReceiver();
    expect(await post(receiver.url, { headers: { 'x-bad': 'a\r\nb' } })).toMatchObject({ ok: false, retryable: false });
  });
});

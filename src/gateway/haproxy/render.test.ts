import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, type ServiceConfig } from '../../config/index.js';
import { renderHaproxyConfig, type RenderPaths } from './render.js';
import { haproxyWeight } from './render-backend.js';

const dir = mkdtempSync(join(tmpdir(), 'bulwark-haproxy-render-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const paths: RenderPaths = { statsSocket: join(dir, 'stats.sock'), crtList: (s) => join(dir, `${s}.crt-list`) };

function services(yaml: Record<string, unknown>): Array<[string, ServiceConfig]> {
  return Object.entries(configSchema.parse({ zones: { a: { region: 'r' }, b: { region: 'r' } }, regions: { r: {} }, services: yaml }).services);
}

const full = {
  listen: '127.0.0.1:18080',
  endpoints: [
    { url: 'http://127.0.0.1:9001', zone: 'a', weight: 200 },
    { url: 'http://127.0.0.1:9002', zone: 'b' },
    { url: 'http://127.0.0.1:9003', name: 'spare', backup: true },
  ],
  health_check: { path: '/healthz', interval: '2s', fall: 2, rise: 3 },
  load_balancing: { algorithm: 'least_connections', sticky_sessions: { cookie: 'srv' } },
  failover: { primary_zones: ['a'] },
  outlier_detection: { consecutive_errors: 4 },
  retries: { attempts: 3, per_try_timeout: '5s', retry_on: ['5xx', 'reset', 'connect-failure'] },
  timeout: '20s',
  connect_timeout: '1s',
  limits: { max_connections: 500, max_pending_requests: 100, max_request_body_size: '1MiB' },
  rate_limit: { requests_per_second: 50, key: 'header:X-Api-Key' },
};

async function haproxyCheck(text: string): Promise<{ ok: boolean; output: string }> {
  const file = join(dir, `haproxy-${Math.random().toString(36).slice(2)}.cfg`);
  writeFileSync(file, text);
  try {
    const { stdout, stderr } = await promisify(execFile)('haproxy', ['-c', '-f', file]);
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('renderHaproxyConfig', () => {
  const text = renderHaproxyConfig(services({ api: full }), paths);

  it('renders algorithms, weights, zone priority as backup servers and sticky cookies', () => {
    expect(text).toContain('balance leastconn');
    expect(text).toMatch(/server 127\.0\.0\.1:9001 127\.0\.0\.1:9001 weight 51 check cookie 127\.0\.0\.1:9001\n/);
    expect(text).toMatch(/server 127\.0\.0\.1:9002 127\.0\.0\.1:9002 weight 26 check backup cookie/);
    expect(text).toMatch(/server spare 127\.0\.0\.1:9003 weight 26 check backup cookie spare/);
    expect(text).toContain('cookie srv insert indirect nocache httponly');
    expect(haproxyWeight(0)).toBe(0);
    expect(haproxyWeight(1)).toBe(1);
    expect(haproxyWeight(1000)).toBe(256);
  });

  it('renders retries with redispatch and retry-on, timeouts, limits, checks and the outlier mapping', () => {
    expect(text).toContain('retries 3\n    option redispatch 1\n    retry-on 500 502 503 504 empty-response junk-response conn-failure');
    expect(text).toContain('timeout connect 1000ms');
    expect(text).toContain('timeout server 5000ms');
    expect(text).toContain('option httpchk GET /healthz');
    expect(text).toContain('default-server init-addr libc,none inter 2000ms fall 2 rise 3 observe layer7 error-limit 4 on-error mark-down maxconn 500 maxqueue 100');
    expect(text).toContain('http-request track-sc0 req.hdr(X-Api-Key)');
    expect(text).toContain('http-request deny deny_status 429 if { sc_http_req_rate(0) gt 50 }');
    expect(text).toContain('http-request deny deny_status 413 if { req.hdr_val(content-length) gt 1048576 }');
  });

  it('renders TLS termination, HSTS, the HTTP redirect and TCP services', () => {
    const tls = renderHaproxyConfig(services({
      web: { listen: '127.0.0.1:18443', endpoints: [{ url: 'https://127.0.0.1:9443' }], upstream_tls: { ca: '/etc/ssl/certs/ca-certificates.crt', servername: 'app.test' }, tls: { certificates: [{ cert: '/c.pem', key: '/k.pem' }], hsts: true, redirect_http: '127.0.0.1:18081' } },
      pg: { listen: '127.0.0.1:15432', protocol: 'tcp', on_marked_down: 'shutdown-sessions', endpoints: [{ url: 'tcp://127.0.0.1:5432' }] },
    }), paths);
    expect(tls).toContain(`bind 127.0.0.1:18443 ssl crt-list ${join(dir, 'web.crt-list')} ssl-min-ver TLSv1.2`);
    expect(tls).toContain('http-response set-header Strict-Transport-Security "max-age=31536000"');
    expect(tls).toContain('http-request redirect location https://%[req.hdr(host),field(1,:)]:18443%[capture.req.uri] code 308');
    expect(tls).toMatch(/ssl verify required ca-file \/etc\/ssl\/certs\/ca-certificates\.crt sni str\(app\.test\) verifyhost app\.test/);
    expect(tls).toContain('mode tcp');
    expect(tls).toContain('on-marked-down shutdown-sessions');
  });

  it('is accepted by haproxy -c', async () => {
    const tcp = renderHaproxyConfig(services({
      api: full,
      p2c: { listen: '127.0.0.1:18082', endpoints: [{ url: 'http://127.0.0.1:9004' }], load_balancing: { algorithm: 'power_of_two_choices' }, rate_limit: { requests_per_second: 2.5 } },
      pg: { listen: ':15432', protocol: 'tcp', on_marked_down: 'shutdown-sessions', endpoints: [{ url: '127.0.0.1:5432' }], retries: { attempts: 0 } },
      upstream: { listen: '127.0.0.1:18083', endpoints: [{ url: 'https://127.0.0.1:9443' }], upstream_tls: { verify: false } },
      system: { listen: '127.0.0.1:18084', endpoints: [{ url: 'https://example.com' }] },
    }), { ...paths, threads: 1 });
    expect(tcp).toContain('global\n    nbthread 1\n');
    expect(text).not.toContain('nbthread');
    const result = await haproxyCheck(tcp);
    expect(result.output).not.toMatch(/\[ALERT\]/);
    expect(result.ok, result.output).toBe(true);
  });
});

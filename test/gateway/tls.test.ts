import { readFileSync, renameSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { Agent, createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText, type BulwarkConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { freePort } from '../../src/core/net.js';
import { EventBus } from '../../src/events/index.js';
import { Gateway } from '../../src/gateway/index.js';
import type { ProbeEvents } from '../../src/probes/index.js';
import { memoryLogger } from '../../src/testing/memory-logger.js';
import { createTestCa, type IssuedCertificate, type TestCa } from '../../src/testing/test-ca.js';

let ca: TestCa;
let otherCa: TestCa;
let dir: string;
let certA: IssuedCertificate;
let certB: IssuedCertificate;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(() => {
  ca = createTestCa();
  otherCa = createTestCa('Some Other CA');
  dir = mkdtempSync(join(tmpdir(), 'bulwark-tls-test-'));
  certA = ca.issue({ names: ['a.test'], ips: ['127.0.0.1'] });
  certB = ca.issue({ names: ['b.test'] });
});
afterAll(() => {
  ca.cleanup();
  otherCa.cleanup();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Copies an issued pair to `dir/name.{crt,key}` (renamed into place, as renewal tools do) and returns the paths. */
function install(name: string, issued: IssuedCertificate): { cert: string; key: string } {
  const paths = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  for (const kind of ['cert', 'key'] as const) {
    copyFileSync(issued[kind], `${paths[kind]}.new`);
    renameSync(`${paths[kind]}.new`, paths[kind]);
  }
  return paths;
}

async function upstream(): Promise<number> {
  const server = createHttpServer((req, res) => res.end(`upstream saw ${req.headers['x-forwarded-proto']}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return (server.address() as { port: number }).port;
}

function parse(yaml: string): BulwarkConfig {
  const loaded = parseConfigText(yaml, 'test.yaml', { lint: false });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.findings));
  return loaded.config;
}

async function startGateway(yaml: string, log = silentLogger(), registry = new Registry()): Promise<{ gateway: Gateway; port: number }> {
  const gateway = new Gateway(parse(yaml), new EventBus<ProbeEvents>(), registry, log);
  await gateway.start();
  cleanups.push(() => gateway.stop(AbortSignal.timeout(2_000)));
  const listen = (gateway.snapshot().web as { listen: string }).listen;
  return { gateway, port: Number(listen.split(':').pop()) };
}

function service(upstreamUrl: string, tls: string, extra = '', listen = '127.0.0.1:0'): string {
  return `services:\n  web:\n    listen: ${listen}\n    endpoints:\n      - { name: e0, url: "${upstreamUrl}" }\n${tls}\n${extra}`;
}

/** The certificate the listener presents to a client that asks for `servername` (none: no SNI). */
function peerCertificate(port: number, servername?: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}), ca: readFileSync(ca.caFile), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate());
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

interface Reply { status: number; body: string; headers: Record<string, string | string[] | undefined>; serial: string }

function get(port: number, options: { servername?: string; agent?: Agent | false; ca?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port, path: '/', servername: options.servername ?? 'a.test', ca: readFileSync(options.ca ?? ca.caFile),
      agent: options.agent ?? false, timeout: 10_000,
    }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, serial }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.end();
  });
}

describe('TLS termination in the built-in gateway', () => {
  it('picks the certificate by SNI, falls back to the first, and adds HSTS', async () => {
    const a = install('sni-a', certA);
    const b = install('sni-b', certB);
    const up = await upstream();
    const { port } = await startGateway(service(`http://127.0.0.1:${up}`, `    tls:
      certificates:
        - { cert: ${a.cert}, key: ${a.key} }
        - { cert: ${b.cert}, key: ${b.key} }
      hsts: { max_age: 1d, include_subdomains: true }`));
    expect((await peerCertificate(port, 'a.test')).subject.CN).toBe('a.test');
    expect((await peerCertificate(port, 'b.test')).subject.CN).toBe('b.test');
    expect((await peerCertificate(port, 'B.TEST')).subject.CN).toBe('b.test');
    expect((await peerCertificate(port, 'nobody.test')).subject.CN).toBe('a.test');
    expect((await peerCertificate(port)).subject.CN).toBe('a.test');
    const reply = await get(port, { servername: 'b.test' });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('upstream saw https');
    expect(reply.headers['strict-transport-security']).toBe('max-age=86400; includeSubDomains');
  });

  it('refuses TLS 1.1', async () => {
    const a = install('old-a', certA);
    const { port } = await startGateway(service(`http://127.0.0.1:${await upstream()}`, `    tls: { certificates: [{ cert: ${a.cert}, key: ${a.key} }] }`));
    const outcome = await new Promise<string>((resolve) => {
      // SECLEVEL=0 lets this client offer TLS 1.1 at all: the refusal must come from the gateway.
      const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'a.test', minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false }, () => {
        resolve(`connected with ${socket.getProtocol()}`);
        socket.destroy();
      });
      socket.once('error', (err) => resolve(err.message));
    });
    expect(outcome).toMatch(/protocol version|unsupported protocol/i);
  });

  it('serves a renewed certificate after its files change, with no restart and no failed request', async () => {
    const a = install('renew-a', certA);
    const { log, lines } = memoryLogger();
    const { gateway, port } = await startGateway(service(`http://127.0.0.1:${await upstream()}`, `    tls: { certificates: [{ cert: ${a.cert}, key: ${a.key} }] }`), log);
    const store = gateway.service('web')!.certificates!;
    // A keep-alive connection opened before the renewal must keep working after it.
    const kept = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => kept.destroy());
    expect((await get(port, { agent: kept })).serial).toBe(certA.serial);

    const renewed = ca.issue({ names: ['a.test'], ips: ['127.0.0.1'] });
    const failures: string[] = [];
    const serials = new Map<string, number>();
    let running = true;
    let sawRenewed: () => void = () => undefined;
    const renewedSeen = new Promise<void>((resolve) => (sawRenewed = resolve));
    let underWay: () => void = () => undefined;
    const loopsRunning = new Promise<void>((resolve) => (underWay = resolve));
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const reply = await get(port);
          if (reply.status !== 200) failures.push(`status ${reply.status}`);
          serials.set(reply.serial, (serials.get(reply.serial) ?? 0) + 1);
          if ((serials.get(certA.serial) ?? 0) >= 8) underWay();
          if (reply.serial === renewed.serial) sawRenewed();
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    });
    await loopsRunning; // the clients are under way before the files change
    install('renew-a', renewed);
    await renewedSeen;
    running = false;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(serials.get(certA.serial)).toBeGreaterThan(0);
    expect((await get(port)).serial).toBe(renewed.serial);
    const onKept = await get(port, { agent: kept });
    expect(onKept.status).toBe(200);

    // A broken renewal keeps the certificate in use and says why.
    const failed = new Promise<{ error: string }>((resolve) => store.once('failed', resolve));
    copyFileSync(certB.cert, a.cert);
    expect((await failed).error).toMatch(/does not belong to the certificate/);
    expect((await get(port)).serial).toBe(renewed.serial);
    expect(lines.some((l) => l.level === 50 && /certificates in use stay/.test(String(l.msg)))).toBe(true);
  });

  it('redirects plain HTTP to https', async () => {
    const a = install('redirect-a', certA);
    const [tlsPort, httpPort] = [await freePort(), await freePort()];
    await startGateway(service(`http://127.0.0.1:${await upstream()}`, `    tls: { certificates: [{ cert: ${a.cert}, key: ${a.key} }], redirect_http: 127.0.0.1:${httpPort} }`, '', `127.0.0.1:${tlsPort}`));
    const res = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: httpPort, path: '/x?y=1', headers: { host: 'a.test' } }, (r) => {
        r.resume();
        resolve({ status: r.statusCode ?? 0, location: r.headers.location });
      }).once('error', reject).end();
    });
    expect(res).toEqual({ status: 308, location: `https://a.test:${tlsPort}/x?y=1` });
  });

  it('fails to start with the key to fix when a certificate file is missing', async () => {
    const gateway = new Gateway(parse(service('http://127.0.0.1:9', `    tls: { certificates: [{ cert: ${join(dir, 'nope.crt')}, key: ${join(dir, 'nope.key')} }] }`)), new EventBus<ProbeEvents>(), new Registry(), silentLogger());
    await expect(gateway.start()).rejects.toThrow(/cannot read the certificate .*nope\.crt \(services\.web\.tls\.certificates\[0\]\.cert\): the file does not exist/);
  });

  it('exports seconds until each certificate expires', async () => {
    const a = install('metric-a', certA);
    const registry = new Registry();
    await startGateway(service(`http://127.0.0.1:${await upstream()}`, `    tls: { certificates: [{ cert: ${a.cert}, key: ${a.key} }] }`), silentLogger(), registry);
    const metric = await registry.getSingleMetric('bulwark_certificate_expiry_seconds')!.get();
    const value = metric.values.find((v) => v.labels.service === 'web' && v.labels.file === a.cert)?.value ?? 0;
    expect(value).toBeGreaterThan(29 * 86_400);
    expect(value).toBeLessThan(31 * 86_400);
  });
});

describe('TLS to upstreams', () => {
  async function tlsUpstream(): Promise<{ port: number; handshakes: () => number }> {
    const issued = ca.issue({ names: ['upstream.test'] });
    let handshakes = 0;
    const server: HttpsServer = createHttpsServer({ cert: readFileSync(issued.cert), key: readFileSync(issued.key) }, (_req, res) => res.end('secure upstream'));
    server.on('secureConnection', () => handshakes++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => { (server as unknown as Server).closeAllConnections(); server.close(() => resolve()); }));
    return { port: (server.address() as { port: number }).port, handshakes: () => handshakes };
  }

  it('verifies against the CA bundle and keeps connections alive', async () => {
    const up = await tlsUpstream();
    const a = install('up-a', certA);
    const { port } = await startGateway(service(`https://127.0.0.1:${up.port}`, `    tls: { certificates: [{ cert: ${a.cert}, key: ${a.key} }] }`, `    upstream_tls: { ca: ${ca.caFile}, servername: upstream.test }`));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    for (let i = 0; i < 5; i++) {
      const reply = await get(port, { agent });
      expect(reply).toMatchObject({ status: 200, body: 'secure upstream' });
    }
    expect(up.handshakes()).toBe(1);
  });

  it('refuses an upstream signed by another CA with a clear error', async () => {
    const up = await tlsUpstream();
    const a = install('up-wrong', certA);
    const { log, lines } = memoryLogger();
    const { port } = await startGateway(service(`https://127.0.0.1:${up.port}`, `    tls: { certificates: [{ cert: ${a.cert}, key: ${a.key} }] }`, `    upstream_tls: { ca: ${otherCa.caFile}, servername: upstream.test }`), log);
    const reply = await get(port);
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body)).toMatchObject({ error: { code: 'UPSTREAM_TLS_FAILED' } });
    const warning = lines.find((l) => /TLS certificate was refused/.test(String(l.msg)));
    expect(String(warning?.msg)).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE.*upstream_tls\.ca/);
  });
});

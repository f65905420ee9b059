import { describe, expect, it } from 'vitest';
import { endpointUrlProblem, hostProblem } from './address.js';
import { formatFinding } from './format.js';
import { formatKeyPath } from './diagnostics.js';
import { parseConfigText } from './load.js';

function findings(yaml: string) {
  return parseConfigText(yaml, 'bulwark.yaml').findings.filter((f) => f.severity === 'error');
}

const service = (url: string, protocol = 'http') => `services:\n  api:\n    protocol: ${protocol}\n    endpoints:\n      - url: ${JSON.stringify(url)}\n`;

describe('endpoint URLs', () => {
  it.each([
    'http://127.0.0.1:8080', 'https://api.internal', 'https://api.internal:8443/base', 'http://[::1]:8080',
    'HTTP://Example.com:80', 'api-1.internal:8080', '10.0.0.1:5432', '[fd00::2]:5432',
  ])('accepts %s', (url) => {
    expect(endpointUrlProblem(url)).toBeUndefined();
    expect(findings(service(url))).toEqual([]);
  });

  it.each([
    ['javascript:alert(1)', 'unsupported scheme "javascript:"'],
    ['ftp://x', 'unsupported scheme "ftp:"'],
    ['http://[::1', 'malformed http:// URL'],
    ['http:/x', 'no "//" after "http:"'],
    ['http://a b:1', 'malformed http:// URL'],
    ['http://999.1.1.1:80', 'malformed http:// URL'],
    ['http://host:0', 'port 0 out of range'],
    ['host:70000', 'port 70000 out of range'],
    ['[not-v6]:80', 'invalid host'],
    ['999.1.1.1:80', 'invalid host'],
    ['localhost', 'not a URL or host:port'],
    ['', 'empty endpoint URL'],
  ])('refuses %j: %s', (url, problem) => {
    expect(endpointUrlProblem(url)).toContain(problem);
  });

  it('reports each bad URL at the line:column of its value, with what was found and what is expected', () => {
    const yaml = "services:\n  api:\n    endpoints:\n      - url: javascript:alert(1)\n      - url: ftp://x\n      - { url: 'http://[::1' }\n";
    const found = findings(yaml);
    expect(found.map((f) => [formatKeyPath(f.path), `${f.location?.line}:${f.location?.column}`, f.found])).toEqual([
      ['services.api.endpoints[0].url', '4:14', 'javascript:alert(1)'],
      ['services.api.endpoints[1].url', '5:14', 'ftp://x'],
      ['services.api.endpoints[2].url', '6:16', "'http://[::1'"],
    ]);
    expect(formatFinding(found[1]!)).toBe([
      'bulwark.yaml:5:14 error services.api.endpoints[1].url: unsupported scheme "ftp:"',
      '  found:    ftp://x',
      '  expected: http://host:port, https://host[:port] or host:port (tcp://host:port with protocol: tcp)',
    ].join('\n'));
  });

  it('takes tcp://host:port only for a TCP service, and with a port', () => {
    expect(findings(service('tcp://10.0.0.1:5432', 'tcp'))).toEqual([]);
    expect(findings(service('10.0.0.1:5432', 'tcp'))).toEqual([]);
    expect(findings(service('tcp://10.0.0.1', 'tcp'))[0]?.message).toBe('no port (a tcp:// URL needs one)');
    const [wrong] = findings(service('tcp://10.0.0.1:5432'));
    expect(wrong?.message).toBe('a tcp:// endpoint URL needs protocol: tcp on its service (this one is http)');
    expect(`${wrong?.location?.line}:${wrong?.location?.column}`).toBe('5:14');
  });
});

describe('database member hosts', () => {
  it.each(['127.0.0.1', 'db1.internal', 'db-1', '::1', 'fe80::1'])('accepts %s', (host) => {
    expect(hostProblem(host)).toBeUndefined();
  });

  it.each([
    ['javascript:alert(1)', 'a host takes no scheme'],
    ['http://db1', 'a host takes no scheme'],
    ['db1:5432', 'a host takes no port'],
    ['[::1]', 'takes no brackets'],
    ['db 1', 'invalid host name'],
    ['999.1.1.1', 'invalid host name'],
  ])('refuses %j: %s', (host, problem) => {
    expect(hostProblem(host)).toContain(problem);
  });

  it('reports a bad member host at its value, for PostgreSQL and Redis', () => {
    const yaml = 'databases:\n  pg:\n    postgres:\n      members: [{ name: a, host: "ftp://db", port: 5432 }]\n'
      + '  cache:\n    redis:\n      members: [{ name: r, host: "r1:6379", port: 6379 }]\n';
    expect(findings(yaml).map((f) => [formatKeyPath(f.path), `${f.location?.line}:${f.location?.column}`, f.message])).toEqual([
      ['databases.pg.postgres.members[0].host', '4:34', 'a host takes no scheme'],
      ['databases.cache.redis.members[0].host', '7:34', 'a host takes no port (members have "port" for it)'],
    ]);
  });
});

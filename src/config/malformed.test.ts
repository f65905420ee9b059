import { describe, expect, it } from 'vitest';
import { formatKeyPath, type Finding } from './diagnostics.js';
import { parseConfigText } from './load.js';

/** One endpoint, so a service under test is valid apart from the line that breaks it. */
const EP = "    endpoints: [{ url: 'http://127.0.0.1:1' }]\n";

interface Row {
  name: string;
  yaml: string;
  /** "line:column" of the finding. */
  at: string;
  path: string;
  message: string;
  /** The input cannot be used at all (syntax, root type): `check` exits 2. */
  unusable?: boolean;
}

const rows: Row[] = [
  // unknown keys, at several depths
  { name: 'unknown top-level key with suggestion', yaml: 'versoin: 1\n', at: '1:1', path: 'versoin', message: 'unknown key "versoin"; did you mean "version"?' },
  { name: 'unknown top-level key, nothing close', yaml: 'name: x\nfrobnicate: true\n', at: '2:1', path: 'frobnicate', message: 'unknown key "frobnicate"' },
  { name: 'unknown key in a tier', yaml: 'sla_tiers:\n  gold: { availability: 99.9%, rto: 1h, rpo: 5m, rpp: 1m }\n', at: '2:50', path: 'sla_tiers.gold.rpp', message: 'did you mean "rpo"?' },
  { name: 'unknown key in a flow map inside a zone', yaml: 'zones:\n  a: { region: r, availabilty: 99% }\n', at: '2:19', path: 'zones.a.availabilty', message: 'did you mean "availability"?' },
  { name: 'unknown key in an endpoint list item', yaml: 'services:\n  api:\n    endpoints:\n      - url: http://a:1\n        zon: a\n', at: '5:9', path: 'services.api.endpoints[0].zon', message: 'unknown key "zon"; did you mean "zone"?' },
  { name: 'unknown key five levels deep', yaml: `services:\n  api:\n${EP}    retries:\n      backoff: { base: 10ms, maxx: 1s }\n`, at: '5:30', path: 'services.api.retries.backoff.maxx', message: 'did you mean "max"?' },
  { name: 'misspelt required key: unknown and missing', yaml: "services:\n  api:\n    endpoint: [{ url: 'http://a:1' }]\n", at: '3:5', path: 'services.api.endpoint', message: 'did you mean "endpoints"?' },
  // missing required keys
  { name: 'missing rpo in a tier', yaml: 'sla_tiers:\n  gold:\n    availability: 99.9%\n    rto: 1h\n', at: '2:3', path: 'sla_tiers.gold.rpo', message: 'missing required key "rpo" in sla_tiers.gold' },
  { name: 'missing endpoints', yaml: 'services:\n  web: { tier: standard }\n', at: '2:3', path: 'services.web.endpoints', message: 'missing required key "endpoints"' },
  { name: 'missing member port', yaml: 'databases:\n  db:\n    postgres:\n      members:\n        - { name: a }\n', at: '5:11', path: 'databases.db.postgres.members[0].port', message: 'missing required key "port"' },
  { name: 'missing status page title', yaml: 'status_page:\n  public: true\n', at: '1:1', path: 'status_page.title', message: 'missing required key "title" in status_page' },
  // wrong types
  { name: 'a list where a mapping of services goes', yaml: 'services: [a, b]\n', at: '1:11', path: 'services', message: 'expected a mapping' },
  { name: 'a string where endpoints list goes', yaml: 'services:\n  api:\n    endpoints: http://a:1\n', at: '3:16', path: 'services.api.endpoints', message: 'expected a list' },
  { name: 'a number in the endpoint list', yaml: 'services:\n  api:\n    endpoints:\n      - url: http://a:1\n      - 5\n', at: '5:9', path: 'services.api.endpoints[1]', message: 'expected a mapping' },
  { name: 'a list where the name string goes', yaml: 'name: [1]\n', at: '1:7', path: 'name', message: 'expected a string' },
  { name: 'a word where a boolean goes', yaml: 'services:\n  api:\n    endpoints:\n      - url: http://a:1\n        backup: yes-please\n', at: '5:17', path: 'services.api.endpoints[0].backup', message: 'expected true or false' },
  { name: 'a fraction where a whole number goes', yaml: "services:\n  api:\n    endpoints: [{ url: 'http://a:1', weight: 1.5 }]\n", at: '3:46', path: 'services.api.endpoints[0].weight', message: 'expected a whole number' },
  { name: 'wrong version', yaml: 'version: 2\n', at: '1:10', path: 'version', message: 'expected one of 1' },
  // durations, percentages, sizes, schedules
  { name: 'bare number as a duration', yaml: 'sla_tiers:\n  gold: { availability: 99.9%, rto: 1h, rpo: 5 }\n', at: '2:46', path: 'sla_tiers.gold.rpo', message: 'expected a duration' },
  { name: 'unknown duration unit', yaml: `services:\n  api:\n${EP}    health_check: { interval: 10 parsecs }\n`, at: '4:31', path: 'services.api.health_check.interval', message: 'expected a duration' },
  { name: 'negative duration', yaml: `services:\n  api:\n${EP}    timeout: -1s\n`, at: '4:14', path: 'services.api.timeout', message: 'expected a duration' },
  { name: 'percentage above 100', yaml: 'sla_tiers:\n  gold: { availability: 101%, rto: 1h, rpo: 5m }\n', at: '2:25', path: 'sla_tiers.gold.availability', message: 'at most 100%' },
  { name: 'bare number as a percentage', yaml: 'sla_tiers:\n  gold: { availability: 99.9, rto: 1h, rpo: 5m }\n', at: '2:25', path: 'sla_tiers.gold.availability', message: 'expected a percentage' },
  { name: 'unknown size unit', yaml: `services:\n  api:\n${EP}    limits: { max_request_body_size: 10XB }\n`, at: '4:38', path: 'services.api.limits.max_request_body_size', message: 'expected a size' },
  { name: 'negative size', yaml: `services:\n  api:\n${EP}    limits: { max_request_header_size: -1 }\n`, at: '4:40', path: 'services.api.limits.max_request_header_size', message: 'expected a size' },
  { name: 'interval that does not divide the hour', yaml: 'backups:\n  policies:\n    p:\n      source: { paths: [/x] }\n      schedule: every 7 minutes\n      copies: [r]\n', at: '5:17', path: 'backups.policies.p.schedule', message: 'expected "on change" or a cron expression' },
  { name: 'cron minute out of range', yaml: 'dr_testing:\n  d: { schedule: 61 * * * * }\n', at: '2:18', path: 'dr_testing.d.schedule', message: 'expected a cron expression' },
  // enums
  { name: 'bad enum with suggestion', yaml: `services:\n  api:\n${EP}    load_balancing: { algorithm: round_robbin }\n`, at: '4:34', path: 'services.api.load_balancing.algorithm', message: 'did you mean "round_robin"?' },
  { name: 'bad protocol with suggestion', yaml: `services:\n  api:\n    protocol: htp\n${EP}`, at: '3:15', path: 'services.api.protocol', message: 'expected one of "http", "tcp"; did you mean "http"?' },
  { name: 'bad enum inside a list', yaml: `services:\n  api:\n${EP}    retries: { retry_on: [5xx, timeout] }\n`, at: '4:32', path: 'services.api.retries.retry_on[1]', message: 'expected one of "5xx"' },
  { name: 'bad alert condition', yaml: 'alerting:\n  rules:\n    r: { when: service_dwn, escalation: e }\n', at: '3:16', path: 'alerting.rules.r.when', message: 'did you mean "service_down"?' },
  // addresses, URLs, names
  { name: 'listen address without a port', yaml: `services:\n  api:\n    listen: localhost\n${EP}`, at: '3:13', path: 'services.api.listen', message: 'expected a listen address' },
  { name: 'etcd endpoint that is not http', yaml: 'coordination:\n  etcd:\n    endpoints: [ftp://x]\n', at: '3:17', path: 'coordination.etcd.endpoints[0]', message: 'expected an http:// or https:// URL' },
  { name: 'slack webhook that is not a URL', yaml: 'alerting:\n  channels:\n    c: { slack: { webhook_url: not-a-url } }\n', at: '3:32', path: 'alerting.channels.c.slack.webhook_url', message: 'expected an http:// or https:// URL' },
  { name: 'store URL of the wrong kind', yaml: 'store:\n  postgres: mysql://x\n', at: '2:13', path: 'store.postgres', message: 'expected a postgres:// connection URL' },
  { name: 'service name with bad characters', yaml: `services:\n  'bad name!':\n${EP}`, at: '2:3', path: 'services.bad name!', message: 'invalid name' },
  { name: 'member name with bad characters', yaml: 'databases:\n  db:\n    redis:\n      members: [{ name: "r/1", port: 6379 }]\n', at: '4:25', path: 'databases.db.redis.members[0].name', message: 'expected a name of letters, digits' },
  { name: 'bad email address', yaml: 'alerting:\n  channels:\n    c: { email: { smtp: { host: h, from: nope }, to: [ops@example.com] } }\n', at: '3:42', path: 'alerting.channels.c.email.smtp.from', message: 'email' },
  // lists and "exactly one of"
  { name: 'empty endpoints list', yaml: 'services:\n  api:\n    endpoints: []\n', at: '3:16', path: 'services.api.endpoints', message: 'expected at least one endpoint' },
  { name: 'database with both postgres and redis', yaml: 'databases:\n  db:\n    postgres: { members: [{ name: a, port: 5432 }] }\n    redis: { members: [{ name: b, port: 6379 }] }\n', at: '3:5', path: 'databases.db', message: 'a database takes only one of: postgres, redis' },
  { name: 'database with neither', yaml: 'databases:\n  db:\n    tier: gold\n', at: '3:5', path: 'databases.db', message: 'a database needs one of: postgres, redis' },
  { name: 'repository with two kinds', yaml: 'backups:\n  repositories:\n    r: { path: /x, s3: { bucket: abc } }\n', at: '3:8', path: 'backups.repositories.r', message: 'a backup repository takes only one of: path, s3' },
  { name: 'alert channel with no kind', yaml: 'alerting:\n  channels:\n    c: {}\n', at: '3:8', path: 'alerting.channels.c', message: 'an alert channel needs one of' },
  { name: 'maintenance window with neither schedule nor start', yaml: 'maintenance_windows:\n  - { name: m, services: [a], duration: 1h }\n', at: '2:5', path: 'maintenance_windows[0]', message: 'a maintenance window needs one of: schedule, start' },
  // numbers out of range
  { name: 'port out of range', yaml: 'databases:\n  db:\n    postgres:\n      members:\n        - { name: a, port: 70000 }\n', at: '5:28', path: 'databases.db.postgres.members[0].port', message: 'expected at most 65535' },
  { name: 'negative fall', yaml: `services:\n  api:\n${EP}    health_check: { fall: -1 }\n`, at: '4:27', path: 'services.api.health_check.fall', message: 'expected at least 1' },
  { name: 'zero requests per second', yaml: `services:\n  api:\n${EP}    rate_limit: { requests_per_second: 0 }\n`, at: '4:40', path: 'services.api.rate_limit.requests_per_second', message: 'expected greater than 0' },
  { name: 'history_days of 0', yaml: 'status_page:\n  title: x\n  history_days: 0\n', at: '3:17', path: 'status_page.history_days', message: 'expected at least 1' },
  { name: 'health check path without a slash', yaml: `services:\n  api:\n${EP}    health_check: { path: health }\n`, at: '4:27', path: 'services.api.health_check.path', message: 'expected a path starting with "/"' },
  // unusable input
  { name: 'duplicate keys', yaml: 'name: a\nname: b\n', at: '2:1', path: '(root)', message: 'Map keys must be unique', unusable: true },
  { name: 'duplicate tier', yaml: 'sla_tiers:\n  gold: { availability: 99.9%, rto: 1h, rpo: 5m }\n  gold: { availability: 99.9%, rto: 1h, rpo: 5m }\n', at: '3:3', path: '(root)', message: 'Map keys must be unique', unusable: true },
  { name: 'tab indentation', yaml: 'services:\n\tapi: {}\n', at: '2:1', path: '(root)', message: 'Tabs are not allowed', unusable: true },
  { name: 'unterminated quote', yaml: "name: 'acme\n", at: '2:1', path: '(root)', message: 'Missing closing', unusable: true },
  { name: 'unclosed flow map', yaml: '{\n', at: '2:1', path: '(root)', message: 'Flow map must end with a }', unusable: true },
  { name: 'a root that is a list', yaml: '- a\n- b\n', at: '1:1', path: '(root)', message: 'the configuration must be a mapping', unusable: true },
  { name: 'a root that is a string', yaml: "'just a string'\n", at: '1:1', path: '(root)', message: 'the configuration must be a mapping', unusable: true },
  { name: 'alias to a missing anchor', yaml: 'name: *nope\n', at: '1:1', path: '(root)', message: 'Unresolved alias', unusable: true },
  { name: 'alias that contains itself', yaml: 'x: &x [*x]\n', at: '1:1', path: '(root)', message: 'cycle', unusable: true },
  { name: 'several documents', yaml: 'name: a\n---\nname: b\n', at: '2:1', path: '(root)', message: 'more than one YAML document', unusable: true },
];

function findingAt(findings: Finding[], path: string): Finding | undefined {
  return findings.find((f) => formatKeyPath(f.path) === path);
}

describe('malformed configurations', () => {
  it('has a large table', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
  });

  it.each(rows)('$name', (row) => {
    const loaded = parseConfigText(row.yaml, 'test.yaml', { env: {} });
    expect(loaded.findings.length).toBeGreaterThan(0);
    expect(loaded.unusable).toBe(row.unusable === true);
    if (loaded.unusable) expect(loaded.config).toBeUndefined();
    const finding = findingAt(loaded.findings, row.path);
    expect(finding, `no finding at ${row.path}; got ${JSON.stringify(loaded.findings.map((f) => [formatKeyPath(f.path), f.message]))}`).toBeDefined();
    expect(finding?.severity).toBe('error');
    expect(finding?.message).toContain(row.message);
    expect(`${finding?.location?.line}:${finding?.location?.column}`).toBe(row.at);
    expect(finding?.location?.file).toBe('test.yaml');
  });
});

describe('every problem at once', () => {
  it('reports five distinct errors in one file as five findings, in file order', () => {
    const text = [
      'versoin: 1',                                              // 1: unknown key
      'sla_tiers:',
      '  gold: { availability: 101%, rto: 1h, rpo: 5m }',        // 3: bad percentage
      'services:',
      '  api:',
      '    protocol: htp',                                       // 6: bad enum
      "    endpoints: [{ url: 'http://a:1', weight: 1.5 }]",     // 7: not a whole number
      'databases:',
      '  db:',
      '    postgres: { members: [{ name: a, port: 70000 }] }',   // 10: port out of range
      '',
    ].join('\n');
    const loaded = parseConfigText(text, 'test.yaml', { env: {} });
    expect(loaded.unusable).toBe(false);
    expect(loaded.config).toBeUndefined();
    expect(loaded.findings.map((f) => [f.location?.line, formatKeyPath(f.path)])).toEqual([
      [1, 'versoin'],
      [3, 'sla_tiers.gold.availability'],
      [6, 'services.api.protocol'],
      [7, 'services.api.endpoints[0].weight'],
      [10, 'databases.db.postgres.members[0].port'],
    ]);
  });

  it('fills found and expected for a bad value', () => {
    const loaded = parseConfigText('sla_tiers:\n  gold: { availability: 99.9, rto: 1h, rpo: 5m }\n', 'test.yaml', { env: {} });
    expect(loaded.findings[0]).toMatchObject({ found: '99.9', expected: expect.stringContaining('99.95%') });
  });

  it('lists the known keys for an unknown key', () => {
    const loaded = parseConfigText('zones:\n  a: { region: r, colour: blue }\n', 'test.yaml', { env: {} });
    expect(loaded.findings[0]?.expected).toBe('one of: region, availability, description');
  });

  it('accepts an empty file as an empty configuration, with a warning that it protects nothing', () => {
    const loaded = parseConfigText('', 'test.yaml', { env: {} });
    expect(loaded.findings.map((f) => [f.severity, f.rule])).toEqual([['warning', 'lint.nothing_to_protect']]);
    expect(loaded.config?.services).toEqual({});
  });
});

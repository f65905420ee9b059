import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../load.js';
import { planOf } from './context.js';
import { BASE, byRule, lintYaml } from './testing.js';

/** A postgres database `main` with one member per host given. */
function db(hosts: string[], zones: string[] = []): string {
  const members = hosts.map((h, i) => {
    const zone = zones[i] === undefined ? '' : `, zone: ${zones[i]}`;
    return `        - { name: pg${i + 1}, host: "${h}", port: ${5432 + i}${zone} }`;
  });
  return `${BASE}databases:\n  main:\n    postgres:\n      members:\n${members.join('\n')}\n`;
}

describe('lint.members_on_one_host', () => {
  it('warns when three members share one host, and the plan is no better than that host', () => {
    const yaml = db(['127.0.0.1', 'localhost', '127.0.0.1']);
    const found = byRule(lintYaml(yaml), 'lint.members_on_one_host');
    expect(found).toEqual([expect.objectContaining({
      severity: 'warning',
      path: ['databases', 'main', 'postgres', 'members'],
      message: "all 3 members of database main are on host 127.0.0.1: one host's failure takes the whole database down",
      hint: expect.stringContaining('put members on other hosts'),
    })]);
    const config = parseConfigText(yaml, 'test.yaml', { env: {} }).config;
    if (!config) throw new Error('fixture does not parse');
    const main = planOf(config).plan.components.find((c) => c.name === 'main');
    // One host's availability: availability_defaults.endpoint (99.5%) for one node, not 1 − 0.005³.
    expect(main?.availability.own).toBeCloseTo(0.995, 14);
  });

  it('is quiet for members on three hosts, whose plan stays parallel', () => {
    const yaml = db(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(byRule(lintYaml(yaml), 'lint.members_on_one_host')).toEqual([]);
    const config = parseConfigText(yaml, 'test.yaml', { env: {} }).config;
    if (!config) throw new Error('fixture does not parse');
    expect(planOf(config).plan.components[0]?.availability.own).toBeCloseTo(1 - 0.005 ** 3, 14);
  });

  it('a tier above one host\'s availability is unreachable on one host, and the error says why', () => {
    const yaml = db(['127.0.0.1', '127.0.0.1', '127.0.0.1']).replace('  main:\n', '  main:\n    tier: gold\n');
    const found = byRule(lintYaml(yaml), 'lint.availability_unreachable');
    expect(found).toEqual([expect.objectContaining({ severity: 'error', found: '99.5000%' })]);
    expect(found[0]?.message).toContain('single points of failure: main (all on host 127.0.0.1)');
  });

  it('says when the members declare zones one host cannot all be in', () => {
    const found = byRule(lintYaml(db(['127.0.0.1', '127.0.0.1'], ['z1', 'z2'])), 'lint.members_on_one_host');
    expect(found[0]?.message).toContain('(they declare zones z1, z2, which one host cannot all be in; `bulwark plan` trusts the zones)');
  });

  it('does not lint one member (a member SPOF already) or service endpoints on one host', () => {
    expect(byRule(lintYaml(db(['127.0.0.1'])), 'lint.members_on_one_host')).toEqual([]);
    const yaml = `services:\n  api:\n    endpoints:\n      - { url: http://127.0.0.1:8081 }\n      - { url: http://localhost:8082 }\n`;
    const lints = lintYaml(yaml);
    expect(lints.filter((f) => f.found?.startsWith('host') === true || f.rule === 'lint.members_on_one_host')).toEqual([]);
  });
});

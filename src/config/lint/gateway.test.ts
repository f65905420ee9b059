import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../load.js';
import { planOf } from './context.js';
import { byRule, lintYaml } from './testing.js';

function yaml(gateway = ''): string {
  return `
sla_tiers:
  gold: { availability: 99.99%, rto: 30m, rpo: 1h }
  bronze: { availability: 99.9%, rto: 4h, rpo: 24h }
zones:
  z1: { region: r1 }
  z2: { region: r1 }
services:
  api:
    tier: gold
    listen: 0.0.0.0:8080
    endpoints: [{ url: "http://10.0.1.10:8080", zone: z1 }, { url: "http://10.0.1.11:8080", zone: z2 }]
  intranet:
    tier: bronze
    listen: 0.0.0.0:8081
    endpoints: [{ url: "http://10.0.1.12:8080", zone: z1 }, { url: "http://10.0.1.13:8080", zone: z2 }]
${gateway}`;
}

const TWO_HOSTS_WITH_VIP = `gateway:
  hosts: [{ name: gw-a, zone: z1, host: 10.0.1.5 }, { name: gw-b, zone: z2, host: 10.0.1.6 }]
  vip: { address: 10.0.1.100, advert_interval: 1s }
`;

function plan(text: string) {
  const config = parseConfigText(text, 'test.yaml', { env: {} }).config;
  if (!config) throw new Error('fixture does not pass the schema');
  return planOf(config).plan;
}

describe('lint.single_gateway', () => {
  it('warns when one gateway fronts a tier above 99.9%, not at 99.9%', () => {
    const found = byRule(lintYaml(yaml()), 'lint.single_gateway');
    expect(found).toEqual([expect.objectContaining({
      severity: 'warning', path: ['services', 'api', 'listen'],
      message: expect.stringContaining('one gateway fronts api (tier gold, 99.99%)'),
      hint: expect.stringContaining('gateway.vip'),
    })]);
  });

  it('is quiet with two gateway hosts', () => {
    expect(byRule(lintYaml(yaml(TWO_HOSTS_WITH_VIP)), 'lint.single_gateway')).toEqual([]);
  });
});

describe('the gateway in the plan', () => {
  it('is left out until gateway.hosts or gateway.vip says where it runs', () => {
    expect(plan(yaml()).components.map((c) => c.name).sort()).toEqual(['api', 'intranet']);
  });

  it('is a component in series with every fronted service, with VRRP detection and takeover times', () => {
    const report = plan(yaml(TWO_HOSTS_WITH_VIP));
    const gateway = report.components.find((c) => c.name === 'gateway')!;
    expect(gateway.kind).toBe('gateway');
    expect(gateway.recovery.detectionMs).toBe(Math.round(3.609375 * 1000));
    expect(gateway.recovery.estimatedRecoveryMs).toBe(Math.round(3.609375 * 1000) + 1000);
    expect(report.components.find((c) => c.name === 'api')!.dependsOn).toEqual(['gateway']);
  });

  it('one gateway host is a single point of failure the plan names', () => {
    const report = plan(yaml('gateway:\n  hosts: [{ name: gw-a, zone: z1, host: 10.0.1.5 }]\n'));
    expect(report.components.find((c) => c.name === 'gateway')!.recovery.detectionMs).toBeNull();
    expect(JSON.stringify(report)).toMatch(/gateway/);
  });
});

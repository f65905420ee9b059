import { describe, expect, it } from 'vitest';
import { BASE, byRule, lintYaml } from './testing.js';

const yaml = (copies: string, tier = 'tier: gold'): string => BASE + `
databases:
  db:
    ${tier}
    postgres: { members: [{ name: a, port: 5432, zone: z1 }, { name: b, port: 5433, zone: z2 }] }
backups:
  repositories:
    local: { path: ./backups }
    disk2: { path: /mnt/other }
    offsite: { sftp: { host: backup.example.com, user: b, path: /srv } }
  policies:
    db: { source: { postgres: db }, schedule: hourly, copies: ${copies} }
`;

describe('lint.no_offsite_copy', () => {
  it('warns when every copy of a tiered database is a local directory', () => {
    const [f] = byRule(lintYaml(yaml('[local, disk2]')), 'lint.no_offsite_copy');
    expect(f).toMatchObject({ severity: 'warning', path: ['backups', 'policies', 'db', 'copies'] });
    expect(f?.message).toContain('RPO of 1h');
    expect(f?.hint).toContain('3-2-1');
  });

  it('is quiet with an off-site copy, or without an RPO to keep', () => {
    expect(byRule(lintYaml(yaml('[local, offsite]')), 'lint.no_offsite_copy')).toEqual([]);
    expect(byRule(lintYaml(yaml('[local]', '')), 'lint.no_offsite_copy')).toEqual([]);
  });

  it('accepts a relative local path without complaint', () => {
    const findings = lintYaml(yaml('[local, offsite]'));
    expect(findings.filter((f) => f.path[0] === 'backups')).toEqual([]);
  });
});

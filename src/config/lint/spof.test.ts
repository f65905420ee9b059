import { describe, expect, it } from 'vitest';
import { BASE, byRule, lintYaml } from './testing.js';

describe('lint.single_point_of_failure', () => {
  it('warns about one member, one zone and one region at the member list', () => {
    const yaml = BASE + `
services:
  api:
    endpoints:
      - { url: http://a:1, zone: z1 }
      - { url: http://b:1, zone: z1 }
databases:
  db: { postgres: { members: [{ name: solo, port: 5432, zone: z2 }] } }
`;
    const found = byRule(lintYaml(yaml), 'lint.single_point_of_failure');
    expect(found.map((f) => [f.path.join('.'), f.found])).toEqual([
      ['services.api.endpoints', 'zone z1'],
      ['services.api.endpoints', 'region r1'],
      ['databases.db.postgres.members', 'member solo'],
    ]);
    expect(found.every((f) => f.severity === 'warning')).toBe(true);
    expect(found[0]?.location).toMatchObject({ line: 14, column: 7 });
  });

  it('is quiet when a backup endpoint sits in another region', () => {
    const yaml = BASE + `
services:
  api:
    endpoints:
      - { url: http://a:1, zone: z1 }
      - { url: http://b:1, zone: z2, backup: true }
`;
    expect(byRule(lintYaml(yaml), 'lint.single_point_of_failure')).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../load.js';

function errors(repositories: string, copies: string): string[] {
  const loaded = parseConfigText(`
sla_tiers:
  gold: { availability: 99.9%, rto: 1h, rpo: 5m }
zones:
  us-east-1a: { region: us-east-1 }
  us-west-2a: { region: us-west-2 }
databases:
  db:
    tier: gold
    postgres: { members: [{ name: a, port: 5432, zone: us-east-1a }, { name: b, port: 5433, zone: us-west-2a }] }
backups:
  repositories:
${repositories}
  policies:
    db: { source: { postgres: db }, schedule: daily at 02:00, wal_archiving: true, copies: ${copies} }
`, 'bulwark.yaml');
  return loaded.findings.filter((f) => f.severity === 'error').map((f) => `${f.rule}: ${f.message}`);
}

describe('lint: backups that one region\'s loss would take', () => {
  it('flags a database whose every copy is in the region of its primary repository', () => {
    const found = errors(`    local: { path: /var/backups/bulwark, password: x }
    east: { s3: { bucket: acme-east }, region: us-east-1, password: x }`, '[local, east]');
    expect(found).toEqual([expect.stringMatching(/^lint\.backups_in_one_region: every copy of db's backups \(local, east\) is in region us-east-1/)]);
  });

  it('is satisfied by one copy in another region, and says nothing when no repository declares a region', () => {
    expect(errors(`    local: { path: /var/backups/bulwark, password: x }
    west: { s3: { bucket: acme-west }, region: us-west-2, password: x }`, '[local, { repository: west, retention: { monthly: 12 } }]')).toEqual([]);
    expect(errors(`    local: { path: /var/backups/bulwark, password: x }
    offsite: { s3: { bucket: acme }, password: x }`, '[local, offsite]')).toEqual([]);
  });
});

import type { Finding } from '../diagnostics.js';
import type { BulwarkConfig } from '../schema.js';
import { formatDurationShort } from '../../core/units.js';
import { databaseTier, describeTier } from './context.js';

/**
 * 3-2-1: a database held to an RPO needs a copy of its backups away from its
 * host. A policy whose every copy is a local directory loses the backups with
 * the machine or the zone.
 */
export function lintBackupCopies(config: BulwarkConfig): Finding[] {
  const repositories = config.backups?.repositories ?? {};
  const out: Finding[] = [];
  for (const [name, policy] of Object.entries(config.backups?.policies ?? {})) {
    const db = policy.source.postgres ?? policy.source.redis;
    const tier = db === undefined ? undefined : databaseTier(config, db, 'rpo');
    const repos = policy.copies.map((c) => repositories[c]);
    if (!tier || repos.some((r) => r === undefined || r.path === undefined)) continue;
    out.push({
      severity: 'warning', rule: 'lint.no_offsite_copy', path: ['backups', 'policies', name, 'copies'],
      message: `every copy of policy ${name} is a local directory (${policy.copies.join(', ')}): losing the host or its zone loses ` +
        `${db}'s backups with it, so the RPO of ${formatDurationShort(tier.tier.rpo)} promised by ${describeTier(tier)} cannot be kept after a disaster`,
      found: policy.copies.join(', '),
      expected: 'at least one s3 or sftp repository among copies',
      hint: 'add an s3 or sftp repository in another zone or region and list it in copies (3-2-1: three copies, two media, one off-site)',
    });
  }
  return out;
}

/** `schedule: on change` watches files: a database or standard input has none to watch. */
export function lintOnChange(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  for (const [name, policy] of Object.entries(config.backups?.policies ?? {})) {
    if (!policy.schedule.onChange || policy.source.paths !== undefined) continue;
    const kind = policy.source.postgres !== undefined ? 'a PostgreSQL database' : policy.source.redis !== undefined ? 'a Redis database' : 'standard input';
    out.push({
      severity: 'error', rule: 'lint.on_change_needs_paths', path: ['backups', 'policies', name, 'schedule'],
      message: `policy ${name} backs up ${kind}, but "on change" watches files: it would only ever run its daily catch-up`,
      found: policy.schedule.text, expected: 'a time schedule such as "every 6 hours" or "daily at 02:00"',
      hint: 'use "on change" for paths sources (configuration files); databases need a schedule (and wal_archiving for PostgreSQL)',
    });
  }
  return out;
}

/**
 * The disaster 3-2-1 is for: losing the region of a database's primary
 * repository. With regions declared on repositories (a local directory is
 * where the database is), a database whose every copy is in that region has no
 * backup left after it, whatever its schedule and WAL archiving.
 */
export function lintRegionLoss(config: BulwarkConfig): Finding[] {
  const repositories = config.backups?.repositories ?? {};
  const out: Finding[] = [];
  for (const db of Object.keys(config.databases)) {
    const tier = databaseTier(config, db, 'rpo');
    const policies = Object.entries(config.backups?.policies ?? {}).filter(([, p]) => p.source.postgres === db || p.source.redis === db);
    const home = databaseRegion(config, db);
    if (!tier || policies.length === 0) continue;
    if (!policies.some(([, p]) => p.copies.some((c) => repositories[c]?.region !== undefined))) continue;
    const regionOf = (repo: string): string | undefined => repositories[repo]?.region ?? (repositories[repo]?.path !== undefined ? home : undefined);
    const primary = regionOf(policies[0]![1].copies[0]!);
    if (primary === undefined) continue;
    if (policies.some(([, p]) => p.copies.some((c) => regionOf(c) !== primary))) continue;
    const [name, policy] = policies[0]!;
    out.push({
      severity: 'error', rule: 'lint.backups_in_one_region', path: ['backups', 'policies', name, 'copies'],
      message: `every copy of ${db}'s backups (${policy.copies.join(', ')}) is in region ${primary}: losing that region loses the database and all its backups, ` +
        `so nothing is left to restore and the RPO of ${formatDurationShort(tier.tier.rpo)} promised by ${describeTier(tier)} cannot be kept`,
      found: `all copies in ${primary}`, expected: 'at least one copy in another region',
      hint: 'add a repository in another region (s3 or sftp, with region: ...) to copies; with wal_archiving it receives every WAL file too',
    });
  }
  return out;
}

/** The region of the database's first member with a zone, if the zones say. */
function databaseRegion(config: BulwarkConfig, db: string): string | undefined {
  const d = config.databases[db];
  const members = d?.postgres?.members ?? d?.redis?.members ?? [];
  for (const m of members) if (m.zone !== undefined && config.zones[m.zone]) return config.zones[m.zone]!.region;
  return undefined;
}

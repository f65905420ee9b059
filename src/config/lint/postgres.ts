import type { Finding, KeyPath } from '../diagnostics.js';
import type { BulwarkConfig, PostgresConfig } from '../schema.js';
import { formatDurationShort as short } from '../../core/units.js';
import type { LintFacts } from './context.js';

const MIN_TTL_MS = 2_000;
const MIN_LOOP_WAIT_MS = 100;
const MIN_RETRY_TIMEOUT_MS = 100;

/**
 * PostgreSQL failover settings that cannot work (the leader lease's own rule
 * lives with the other timings): timers too short or not in whole seconds, a
 * synchronous set larger than the replicas, members that collide, and members
 * this daemon would run without what it needs to run them (run as root, for
 * one: only when the facts say this process is root).
 */
export function lintPostgresHa(config: BulwarkConfig, facts: LintFacts = {}): Finding[] {
  const out: Finding[] = [...duplicateAddresses(config)];
  for (const [name, db] of Object.entries(config.databases)) {
    const members = db.postgres?.members ?? db.redis?.members ?? [];
    out.push(...duplicateNames(['databases', name, db.postgres ? 'postgres' : 'redis', 'members'], members));
    if (!db.postgres) continue;
    const path = ['databases', name, 'postgres'];
    out.push(...timers(path, db.postgres), ...synchronous(path, db.postgres), ...localMembers(config, name, path, db.postgres));
    out.push(...rootWithoutRunAs(name, path, db.postgres, facts), ...pooler(name, path, db.postgres));
  }
  return out;
}

/** PgBouncer looks client passwords up as the superuser (auth_user), so it needs its password and a plain name. */
function pooler(name: string, path: KeyPath, pg: PostgresConfig): Finding[] {
  if (!pg.pooler) return [];
  if (pg.superuser_password === undefined) {
    return [{
      severity: 'error', rule: 'lint.pooler_password_missing', path: [...path, 'superuser_password'],
      message: `${name} has a pooler: PgBouncer looks up each client's password on the primary as superuser "${pg.superuser}", which needs superuser_password`,
      expected: 'a password', hint: 'set superuser_password: "${env:PG_SUPERUSER_PASSWORD}" and export it before bulwark up',
    }];
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(pg.superuser)) {
    return [{
      severity: 'error', rule: 'lint.pooler_superuser_name', path: [...path, 'superuser'],
      message: `superuser "${pg.superuser}" cannot be PgBouncer's auth_user (${name} has a pooler): its configuration takes a plain role name`,
      found: pg.superuser, expected: 'letters, digits, _ . -', hint: 'use a plain role name such as postgres',
    }];
  }
  return [];
}

function timers(path: KeyPath, pg: PostgresConfig): Finding[] {
  const out: Finding[] = [];
  if (pg.ttl < MIN_TTL_MS) {
    out.push({
      severity: 'error', rule: 'lint.postgres_ttl_too_short', path: [...path, 'ttl'],
      message: `ttl ${short(pg.ttl)} is below 2s: etcd counts leases in whole seconds and checks expiry every 500ms, so a shorter lease expires unpredictably`,
      found: short(pg.ttl), expected: 'at least 2s', hint: 'use ttl: 10s (the default) unless you have measured a shorter one',
    });
  } else if (pg.ttl % 1000 !== 0) {
    out.push({
      severity: 'error', rule: 'lint.postgres_ttl_whole_seconds', path: [...path, 'ttl'],
      message: `ttl ${short(pg.ttl)} is not a whole number of seconds: etcd leases are granted in seconds`,
      found: short(pg.ttl), expected: 'whole seconds, e.g. 10s', hint: `use ${short(Math.ceil(pg.ttl / 1000) * 1000)}`,
    });
  }
  if (pg.loop_wait < MIN_LOOP_WAIT_MS) {
    out.push({
      severity: 'error', rule: 'lint.postgres_loop_wait_too_short', path: [...path, 'loop_wait'],
      message: `loop_wait ${short(pg.loop_wait)} is below 100ms: every member would query etcd and PostgreSQL in a busy loop`,
      found: short(pg.loop_wait), expected: 'at least 100ms', hint: 'use loop_wait: 2s (the default) or 1s for faster failover',
    });
  }
  if (pg.retry_timeout < MIN_RETRY_TIMEOUT_MS) {
    out.push({
      severity: 'error', rule: 'lint.postgres_retry_timeout_too_short', path: [...path, 'retry_timeout'],
      message: `retry_timeout ${short(pg.retry_timeout)} is below 100ms: an etcd or PostgreSQL call cannot reliably finish that fast, so every iteration would fail`,
      found: short(pg.retry_timeout), expected: 'at least 100ms', hint: 'use retry_timeout: 3s (the default)',
    });
  }
  return out;
}

function synchronous(path: KeyPath, pg: PostgresConfig): Finding[] {
  if (pg.synchronous === false) return [];
  const standbys = pg.synchronous === true ? 1 : pg.synchronous.standbys;
  const key: KeyPath = pg.synchronous === true ? [...path, 'synchronous'] : [...path, 'synchronous', 'standbys'];
  // The primary is one of the synchronous members (an asynchronous one never takes over in synchronous mode).
  const members = pg.members.filter((m) => m.replication === 'synchronous').length;
  if (standbys >= members) {
    return [{
      severity: 'error', rule: 'lint.postgres_sync_standbys', path: key,
      message: `synchronous replication with ${standbys} standby(s) needs at least ${standbys + 1} members with replication: synchronous ` +
        `(the primary and ${standbys} standby(s)); this database has ${members}`,
      found: `standbys ${standbys}, synchronous members ${members}`, expected: `standbys below ${members} (the number of synchronous members)`,
      hint: members <= 1 ? 'add a synchronous replica member, or set synchronous: false' : `lower standbys to ${members - 1} or add synchronous members`,
    }];
  }
  return [];
}

function localMembers(config: BulwarkConfig, name: string, path: KeyPath, pg: PostgresConfig): Finding[] {
  const local = pg.members.findIndex((m) => m.data_dir !== undefined);
  if (local < 0) return [];
  const memberPath = [...path, 'members', local, 'data_dir'];
  if (!config.coordination?.etcd) {
    return [{
      severity: 'warning', rule: 'lint.postgres_without_etcd', path: memberPath,
      message: `${name} has members with data_dir (run on this host), but coordination.etcd is not set: ` +
        'without etcd only manual switchover is available; automatic failover is off',
      hint: 'add coordination.etcd with three or more endpoints to turn automatic failover on',
    }];
  }
  if (pg.superuser_password === undefined) {
    return [{
      severity: 'error', rule: 'lint.postgres_password_missing', path: [...path, 'superuser_password'],
      message: `${name} has members with data_dir (run on this host): bulwark connects to them and replicates between them as ` +
        `superuser "${pg.superuser}", which needs superuser_password`,
      expected: 'a password', hint: 'set superuser_password: "${env:PG_SUPERUSER_PASSWORD}" and export it before bulwark up',
    }];
  }
  return [];
}

/** `bulwark db init` refuses this (postgres-ha/bootstrap.ts) and PostgreSQL will not start as root: say so at check time, with the same fix. */
function rootWithoutRunAs(name: string, path: KeyPath, pg: PostgresConfig, facts: LintFacts): Finding[] {
  if (facts.root !== true || pg.run_as !== undefined || !pg.members.some((m) => m.data_dir !== undefined)) return [];
  return [{
    severity: 'error', rule: 'lint.postgres_root_without_run_as', path: [...path, 'run_as'],
    message: `${name} has members with data_dir (run on this host) and bulwark runs as root here: ` +
      'PostgreSQL refuses to run as root, and no run_as user is configured, so `bulwark db init` refuses and the members could not start',
    expected: 'run_as: the user that owns the data directories',
    hint: `set databases.${name}.postgres.run_as to the user that owns the data directories (e.g. postgres), or run bulwark as that user`,
  }];
}

function duplicateNames(path: KeyPath, members: ReadonlyArray<{ name: string }>): Finding[] {
  const seen = new Map<string, number>();
  const out: Finding[] = [];
  members.forEach((m, i) => {
    const first = seen.get(m.name);
    if (first === undefined) {
      seen.set(m.name, i);
      return;
    }
    out.push({
      severity: 'error', rule: 'lint.duplicate_member_name', path: [...path, i, 'name'],
      message: `member name "${m.name}" is used twice (members[${first}] and members[${i}]): names key the etcd records, replication slots and synchronous standbys`,
      found: m.name, expected: 'a name used once per database', hint: `rename members[${i}]`,
    });
  });
  return out;
}

interface Claim {
  address: string;
  path: KeyPath;
  what: string;
}

/** Every host:port a database member (or a member's health endpoint) occupies, across all databases. */
function duplicateAddresses(config: BulwarkConfig): Finding[] {
  const claims: Claim[] = [];
  for (const [name, db] of Object.entries(config.databases)) {
    const kind = db.postgres ? 'postgres' : 'redis';
    const members = db.postgres?.members ?? db.redis?.members ?? [];
    members.forEach((m, i) => {
      const path = ['databases', name, kind, 'members', i];
      claims.push({ address: `${m.host}:${m.port}`, path: [...path, 'port'], what: `${name}.${m.name}` });
      if ('health_port' in m && m.health_port !== undefined) {
        claims.push({ address: `${m.host}:${m.health_port}`, path: [...path, 'health_port'], what: `${name}.${m.name} health_port` });
      }
    });
  }
  const seen = new Map<string, Claim>();
  const out: Finding[] = [];
  for (const claim of claims) {
    const first = seen.get(claim.address);
    if (!first) {
      seen.set(claim.address, claim);
      continue;
    }
    out.push({
      severity: 'error', rule: 'lint.duplicate_address', path: claim.path,
      message: `${claim.address} is used by both ${first.what} and ${claim.what}: two servers cannot listen on one address`,
      found: claim.address, expected: 'a host:port used once', hint: 'give each member (and each health_port) its own port',
    });
  }
  return out;
}

import type { Command } from 'commander';
import { BulwarkError } from '../../../core/errors.js';
import { initDb, type BootstrapResult } from '../../../postgres-ha/index.js';
import { print, printJSON } from '../../output.js';
import { addDbOptions, localRuntime, openDb, requireMember, type DbOptions } from './db-config.js';

interface InitOptions extends DbOptions {
  primary?: string;
  adopt?: boolean;
}

export function registerInit(db: Command): void {
  addDbOptions(db.command('init').argument('<database>', 'a PostgreSQL database of bulwark.yaml')
    .description('first start of the members on this host (those with data_dir): initdb the primary, base-back-up the replicas, record the primary in etcd')
    .option('--primary <member>', 'the member to initdb as primary (default: the first member with data_dir); with --adopt, the one expected to be primary')
    .option('--adopt', 'take over existing data directories: find the primary with pg_controldata, ensure its slots, record it')
    .option('--node <host>', "this host's members are those whose host (or name) this is (default: those on this machine's own addresses)"))
    .addHelpText('after', `
Without --adopt, for the members with data_dir: initdb the primary (data checksums on,
scram authentication with superuser/superuser_password), start it, create a replication
slot for every other member, base-back-up each local replica and check that it streams,
write the sync record {leader: PRIMARY, members: [PRIMARY]} to etcd (when
coordination.etcd is set: at the managers' first start only that member may take the
leader key), and stop every server cleanly: \`bulwark up\` starts them.

Refuses, writing nothing, when a data_dir exists and is not empty, a member's port is in
use, etcd already has a leader or member records for the database, or this process is
root and no run_as user is configured (PostgreSQL will not run as root).

Across hosts (the same bulwark.yaml on every host; a member runs on the host its
\`host:\` names, or the one given --node): when etcd names a leader on another host, or
--primary names a member on another host, this host's members join the running cluster:
each is copied with pg_basebackup over the network from that primary (through its own
slot), started until it streams, and stopped; nothing is written to etcd.

--adopt: the data directories exist (servers running or stopped). pg_controldata tells
the primary ("in production"/"shut down" without standby.signal) from the replicas;
the slots are ensured on it, every server is stopped and the sync record written.

Exit codes: 0 done, 1 refused or failed (see the message), 2 bad input (unknown database
or member, no member with data_dir, root without run_as, no PostgreSQL binaries).

Examples:
  bulwark db init main-db -c bulwark.yaml
  bulwark db init main-db -c bulwark.yaml --primary m2
  bulwark db init main-db -c bulwark.yaml --adopt --json`)
    .action(async (name: string, options: InitOptions) => {
      const target = await openDb(options, name);
      try {
        if (options.primary !== undefined) requireMember(target, options.primary, '--primary');
        const password = target.pg.superuser_password;
        if (!password) {
          throw new BulwarkError('USAGE', `databases.${name}.postgres.superuser_password is not set`, {
            hint: 'members authenticate with scram: set superuser_password (e.g. "${file:/etc/bulwark/pg.pass}")',
          });
        }
        const runtime = await localRuntime(target);
        const result = await initDb(target, {
          runtime, password, adopt: options.adopt === true, primary: options.primary,
          onStep: options.json ? undefined : (line) => print(`  ${line}`),
        });
        // Without etcd nobody starts them: the exact commands (init writes no port into postgresql.conf).
        const starts = [...target.plan.local].sort((a, b) => Number(b.name === result.primary) - Number(a.name === result.primary))
          .map((m) => `pg_ctl start -w -D ${m.dataDir} -l ${m.dataDir}.log -o "-p ${m.port} -k ${target.plan.socketDir}"`);
        report(result, options, starts);
      } finally {
        await target.close();
      }
    });
}

function report(r: BootstrapResult, options: InitOptions, starts: string[]): void {
  const next = r.sync ? `bulwark up -c ${options.config}` : starts.join(' && ');
  if (options.json) return printJSON({ ...r, next });
  const checksumsOff = Object.entries(r.dataChecksums).filter(([, on]) => !on).map(([n]) => n);
  if (r.mode === 'join') {
    print(`${r.database}: ${r.replicas.join(', ')} joined from ${r.primary} over the network; every server on this host is stopped`);
    return print(`next: bulwark up -c ${options.config}${options.node ? ` --node ${options.node}` : ''} on this host: its managers start them as replicas of the leader`);
  }
  print(`${r.database}: ${r.mode === 'adopt' ? 'adopted' : 'initialized'}, primary ${r.primary}${r.replicas.length > 0 ? `, replicas ${r.replicas.join(', ')}` : ''}; every server is stopped`);
  if (checksumsOff.length > 0) print(`warning: data checksums are off on ${checksumsOff.join(', ')}`);
  if (r.remote.length > 0) print(`not on this host (no data_dir): ${r.remote.join(', ')}; their slots exist on ${r.primary}, their data directories are made on their own hosts`);
  if (!r.sync) {
    print('no coordination.etcd: automatic failover is off; only manual switchover is available, and `bulwark up` does not run these members');
    print(`next: start them yourself (as the user PostgreSQL runs as), ${r.primary} first:`);
    for (const line of starts) print(`  ${line}`);
    return;
  }
  print(`next: ${next} (on every member's host): the member managers start the servers, ${r.primary} takes the leader key first`);
}

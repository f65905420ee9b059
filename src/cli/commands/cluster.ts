import type { Command } from 'commander';
import { loadValidConfig } from '../../config/index.js';
import { readClusterStatusOf, type ClusterStatus } from '../../cluster/index.js';
import { print, printJSON } from '../output.js';

function seconds(value: number | null): string {
  return value === null ? '-' : `${value}s`;
}

function render(status: ClusterStatus): string {
  const lines = ['MEMBER  VERSION  SCHEMA  ADDRESS  STARTED  LEASE'];
  for (const m of status.members) lines.push(`${m.name}  ${m.version}  ${m.schemaVersion}  ${m.address || '-'}  ${m.started || '-'}  ${seconds(m.leaseRemainingSeconds)}`);
  if (status.members.length === 0) lines.push('(no member is running)');
  lines.push('', 'DUTY  HOLDER  LEASE');
  for (const d of status.duties) lines.push(`${d.duty}  ${d.holder ?? '(none: a member takes it within cluster.lease_ttl)'}  ${seconds(d.leaseRemainingSeconds)}`);
  const versions = Object.keys(status.versions);
  if (versions.length > 1) lines.push('', `members run ${versions.length} versions: ${versions.map((v) => `${v} (${status.versions[v]!.join(', ')})`).join('; ')}`);
  return lines.join('\n');
}

export function registerCluster(program: Command): void {
  const cluster = program.command('cluster').description('several bulwark up sharing one bulwark.yaml: members, singleton duties and their leases in etcd');
  cluster.command('status')
    .description('members with their versions, and which member holds each singleton duty and how long its lease has left (read from etcd)')
    .requiredOption('-c, --config <file>', 'configuration file (bulwark.yaml)')
    .option('--json', 'print the result as JSON')
    .action(async (options: { config: string; json?: boolean }) => {
      const { config } = await loadValidConfig(options.config);
      const status = await readClusterStatusOf(config);
      if (options.json) printJSON(status);
      else print(render(status));
    });
}

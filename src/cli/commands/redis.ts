import type { Command } from 'commander';
import { loadValidConfig } from '../../config/index.js';
import { readRedisStatus, requestRedisFailover, type RedisStatus } from '../../redis-ha/index.js';
import { print, printJSON } from '../output.js';
import { addDbOptions, durationOption, type DbOptions } from './db/db-config.js';

function render(status: RedisStatus): string {
  const lines = [`${status.database}: master ${status.master ?? 'unknown'}${status.masterName ? ` (Sentinel name ${status.masterName})` : ''}`, '', 'MEMBER  ADDRESS  ROLE  OFFSET  LAG  LINK'];
  for (const m of status.members) lines.push(`${m.name}  ${m.address}  ${m.role}  ${m.offset ?? '-'}  ${m.lagBytes ?? '-'}  ${m.link ?? (m.error ? `unreachable: ${m.error}` : '-')}`);
  if (status.sentinels.length > 0) {
    lines.push('', 'SENTINEL  MASTER  EPOCH  AGREES  FLAGS');
    for (const s of status.sentinels) lines.push(`${s.sentinel}  ${s.master ?? '-'}  ${s.epoch ?? '-'}  ${s.agrees ? 'yes' : 'no'}  ${s.error ? `unreachable: ${s.error}` : s.flags.join(',')}`);
  }
  return lines.join('\n');
}

export function registerRedis(program: Command): void {
  const redis = program.command('redis').description('Redis with Sentinel: roles, offsets and the Sentinels\' agreement; failover');
  addDbOptions(redis.command('status').argument('<name>', 'a Redis database of bulwark.yaml')
    .description('each member\'s role and replication offset, each Sentinel\'s master and whether it agrees'))
    .action(async (name: string, options: DbOptions) => {
      const { config } = await loadValidConfig(options.config);
      const status = await readRedisStatus(name, config.databases[name]);
      if (options.json) printJSON(status);
      else print(render(status));
    });
  addDbOptions(redis.command('failover').argument('<name>', 'a Redis database with sentinel:')
    .description('asks a Sentinel to fail over (SENTINEL FAILOVER) and waits for the new master')
    .option('--timeout <duration>', 'how long to wait for the new master', '60s'))
    .action(async (name: string, options: DbOptions & { timeout: string }) => {
      const { config } = await loadValidConfig(options.config);
      const result = await requestRedisFailover(name, config.databases[name], durationOption('--timeout', options.timeout));
      if (options.json) printJSON(result);
      else print(`${name}: master ${result.from ?? 'unknown'} → ${result.to} in ${result.tookMs} ms (asked ${result.sentinel})`);
    });
}

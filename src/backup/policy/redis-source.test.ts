import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText, type BulwarkConfig } from '../../config/index.js';
import { startRedis, type RedisServer } from '../../probes/testing/redis-server.js';
import { chooseRedisSource } from './redis-source.js';

const PASSWORD = 'source-secret-77';
let master: RedisServer;
let replica: RedisServer;
beforeAll(async () => {
  master = await startRedis({ password: PASSWORD });
  replica = await startRedis({ password: PASSWORD, replicaOf: master.port });
});
afterAll(async () => {
  await replica?.stop();
  await master?.stop();
});

function config(backupFrom: 'replica' | 'master', healthCheck = ''): BulwarkConfig {
  const text = `databases:
  cache:
    ${healthCheck}
    redis:
      password: ${PASSWORD}
      members: [{ name: r0, port: ${replica.port} }, { name: r1, port: ${master.port} }]
      backup_from: ${backupFrom}`;
  const loaded = parseConfigText(text, 't.yaml', { lint: false, env: {} });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.findings));
  return loaded.config;
}

describe('chooseRedisSource', () => {
  it('reads from a healthy replica, whatever the order of members', async () => {
    const choice = await chooseRedisSource('cache', config('replica').databases.cache!);
    expect(choice).toMatchObject({ member: { name: 'r0', port: replica.port }, role: 'replica' });
  });

  it('reads from the master when backup_from: master', async () => {
    const choice = await chooseRedisSource('cache', config('master').databases.cache!);
    expect(choice).toMatchObject({ member: { name: 'r1' }, role: 'master', why: 'backup_from: master' });
  });

  it('falls back to the master when the replica does not answer', async () => {
    process.kill(replica.pid, 'SIGSTOP');
    try {
      const choice = await chooseRedisSource('cache', config('replica', 'health_check: { max_lag: 1MB }').databases.cache!);
      expect(choice).toMatchObject({ member: { name: 'r1' }, role: 'master' });
      expect(choice.why).toMatch(/no replica/);
    } finally {
      process.kill(replica.pid, 'SIGCONT');
    }
  });
});

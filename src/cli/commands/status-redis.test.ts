import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisRoutes } from '../../api/index.js';
import { parseConfigText } from '../../config/index.js';
import { silentLogger } from '../../core/logger.js';
import { freePort } from '../../core/net.js';
import { startRedis, type RedisServer } from '../../probes/testing/redis-server.js';
import { RedisHaService, type RedisStatus } from '../../redis-ha/index.js';
import { redisLines } from './status.js';

/** `bulwark status`'s Redis block, from a real master and replica through GET /api/v1/redis. */
describe('status: Redis', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let sentinelPort: number;

  beforeAll(async () => {
    master = await startRedis({ password: 'status-secret' });
    replica = await startRedis({ password: 'status-secret', replicaOf: master.port });
    sentinelPort = await freePort();
  });
  afterAll(async () => {
    await replica?.stop();
    await master?.stop();
  });

  it('shows each member\'s role, offset and lag, and a Sentinel that does not answer', async () => {
    const yaml = [
      'databases:', '  cache:', '    redis:', '      password: status-secret',
      '      members:', `        - { name: r0, port: ${master.port} }`, `        - { name: r1, port: ${replica.port} }`,
      '      sentinel:', '        quorum: 1', `        sentinels: ["127.0.0.1:${sentinelPort}"]`,
    ].join('\n');
    const loaded = parseConfigText(yaml, 'status.yaml', { lint: false });
    if (!loaded.config) throw new Error(JSON.stringify(loaded.findings));
    const service = new RedisHaService({ config: loaded.config, log: silentLogger() });

    const response = await redisRoutes(service).request('/redis');
    expect(response.status).toBe(200);
    const [cache] = ((await response.json()) as { redis: RedisStatus[] }).redis;
    expect(cache?.members.map((m) => [m.name, m.role])).toEqual([['r0', 'master'], ['r1', 'replica']]);
    expect(cache?.master).toBe(`127.0.0.1:${master.port}`);
    expect(cache?.sentinels).toEqual([expect.objectContaining({ sentinel: `127.0.0.1:${sentinelPort}`, agrees: false, error: expect.any(String) })]);

    const lines = redisLines(cache!);
    expect(lines[0]).toBe(`  cache: master 127.0.0.1:${master.port} (mymaster), Sentinels 0/1 agree`);
    expect(lines[1]).toMatch(/^ {4}r0 127\.0\.0\.1:\d+: master, offset \d+$/);
    expect(lines[2]).toMatch(/^ {4}r1 127\.0\.0\.1:\d+: replica, offset \d+, \d+ B behind, link (up|down)$/);
    expect(lines[3]).toMatch(new RegExp(`^ {4}Sentinel 127\\.0\\.0\\.1:${sentinelPort}: no answer \\(`));
    expect(JSON.stringify(cache)).not.toContain('status-secret');
  });
});

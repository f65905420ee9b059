import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/index.js';
import { memberConf, redisQuote, sentinelConf } from './conf.js';

function redisOf(extra = '') {
  const text = `databases:
  cache:
    redis:
      password: 'pa"ss word'
      members: [{ name: r0, port: 6379 }, { name: r1, port: 6380 }]
      sentinel: { sentinels: ["127.0.0.1:26379", "127.0.0.1:26380", "127.0.0.1:26381"] ${extra} }`;
  const loaded = parseConfigText(text, 't.yaml', { lint: false, env: {} });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.findings));
  return loaded.config.databases.cache!.redis!;
}

describe('redis-ha configs', () => {
  it('quotes values as redis.conf reads them', () => {
    expect(redisQuote('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
  });

  it('writes seed 000\'s Sentinel numbers by default, with the password quoted', () => {
    const redis = redisOf();
    const text = sentinelConf({ host: '127.0.0.1', port: 26379, dataDir: '/d' }, redis, redis.sentinel!, { host: '127.0.0.1', port: 6379 });
    expect(text).toContain('sentinel monitor mymaster 127.0.0.1 6379 2\n');
    expect(text).toContain('sentinel down-after-milliseconds mymaster 30000\n');
    expect(text).toContain('sentinel failover-timeout mymaster 180000\n');
    expect(text).toContain('sentinel parallel-syncs mymaster 1\n');
    expect(text).toContain('sentinel auth-pass mymaster "pa\\"ss word"\n');
  });

  it('makes the first member the master and the others its replicas, with persistence on', () => {
    const redis = redisOf();
    expect(memberConf({ host: '127.0.0.1', port: 6379, dataDir: '/d' }, redis, undefined)).not.toContain('replicaof');
    const replica = memberConf({ host: '127.0.0.1', port: 6380, dataDir: '/d' }, redis, { host: '127.0.0.1', port: 6379 });
    expect(replica).toContain('replicaof 127.0.0.1 6379\n');
    expect(replica).toContain('appendonly yes\n');
    expect(replica).toContain('masterauth "pa\\"ss word"\n');
  });

  it('refuses a quorum larger than the Sentinels listed', () => {
    expect(() => redisOf(', quorum: 4')).toThrow(/quorum 4 needs at least 4 Sentinels/);
  });
});

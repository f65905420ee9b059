import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../testing/redis-server.js';
import type { CheckResult } from '../types.js';
import { parseInfo, redisCheck, replicationObservations, type RedisCheckSpec, type RedisReplicaObservation } from './redis.js';

const password = `pw-${randomBytes(8).toString('hex')}`;
let primary: RedisServer;
let replica: RedisServer;

function spec(port: number, extra: Partial<RedisCheckSpec> = {}): RedisCheckSpec {
  return { host: '127.0.0.1', port, password, ...extra };
}

function probe(s: RedisCheckSpec, timeoutMs = 5000): Promise<CheckResult> {
  return redisCheck.run(s, { signal: AbortSignal.timeout(timeoutMs), timeoutMs });
}

async function probeUntil(s: RedisCheckSpec, done: (r: CheckResult) => boolean, withinMs = 20_000): Promise<CheckResult> {
  const deadline = Date.now() + withinMs;
  let last = await probe(s);
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`condition not reached; last result: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await probe(s);
  }
  return last;
}

function replicaSeen(r: CheckResult): RedisReplicaObservation | undefined {
  return (r.observations.replicas as RedisReplicaObservation[] | undefined)?.find((x) => x.port === replica.port);
}

async function listen(onConnection: (socket: Socket) => void = () => undefined): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => { sockets.push(socket); socket.on('error', () => undefined); onConnection(socket); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const close = async (): Promise<void> => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => server.close(resolve));
  };
  return { server, port: address.port, close };
}

beforeAll(async () => {
  primary = await startRedis({ password });
  replica = await startRedis({ password, replicaOf: primary.port });
});

afterAll(async () => {
  await replica?.stop();
  await primary?.stop();
});

describe('redisCheck against a real primary and replica', () => {
  it('answers PING and reports the primary with its replica', async () => {
    const r = await probe(spec(primary.port, { expectRole: 'primary' }));
    expect(r).toMatchObject({ ok: true, observations: { role: 'primary', connectedReplicas: 1 } });
    expect(replicaSeen(r)).toMatchObject({ ip: '127.0.0.1', state: 'online' });
  });

  it('reports the replica, its link status and offset', async () => {
    const r = await probe(spec(replica.port, { expectRole: 'replica' }));
    expect(r).toMatchObject({ ok: true, observations: { role: 'replica', masterLinkStatus: 'up', upstream: `127.0.0.1:${primary.port}` } });
    expect(typeof r.observations.slaveReplOffset).toBe('number');
  });

  it('fails with condition on an unexpected role', async () => {
    const r = await probe(spec(replica.port, { expectRole: 'primary' }));
    expect(r).toMatchObject({ ok: false, reason: 'condition', message: 'condition failed: role == primary (was replica)' });
  });

  it('sees lag in bytes on the primary while the replica is paused, and none after it resumes', async () => {
    process.kill(replica.pid, 'SIGSTOP');
    try {
      await primary.cli('SET', 'big', 'x'.repeat(100_000));
      const behind = await probe(spec(primary.port));
      expect(replicaSeen(behind)?.lagBytes).toBeGreaterThan(100_000);
    } finally {
      process.kill(replica.pid, 'SIGCONT');
    }
    const caughtUp = await probeUntil(spec(primary.port), (x) => replicaSeen(x)?.lagBytes === 0);
    expect(replicaSeen(caughtUp)).toMatchObject({ state: 'online', lagBytes: 0 });
    const r = await probe(spec(replica.port));
    expect(r.observations.slaveReplOffset).toBe(caughtUp.observations.masterReplOffset);
  });

  it('reports auth without a password and with a wrong one, never echoing it', async () => {
    const none = await probe(spec(primary.port, { password: undefined }));
    expect(none).toMatchObject({ ok: false, reason: 'auth' });
    expect(none.message).toMatch(/^NOAUTH/);
    const wrong = await probe(spec(primary.port, { password: 'not-the-password' }));
    expect(wrong).toMatchObject({ ok: false, reason: 'auth' });
    expect(wrong.message).toMatch(/^WRONGPASS/);
    expect(wrong.message).not.toContain('not-the-password');
  });
});

describe('redisCheck failures', () => {
  it('reports refused for a closed port', async () => {
    const { port, close } = await listen();
    await close();
    const r = await probe(spec(port));
    expect(r).toMatchObject({ ok: false, reason: 'refused' });
    expect(r.message).toMatch(/ECONNREFUSED/);
  });

  it('times out within 100 ms of the deadline on a server that never answers', async () => {
    const silent = await listen();
    try {
      const started = performance.now();
      const r = await probe(spec(silent.port), 300);
      const wall = performance.now() - started;
      expect(r).toMatchObject({ ok: false, reason: 'timeout' });
      expect(wall).toBeGreaterThanOrEqual(295);
      expect(wall).toBeLessThan(400);
    } finally {
      await silent.close();
    }
  });

  it('reports protocol for a server that does not speak RESP', async () => {
    const http = await listen((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    try {
      const r = await probe(spec(http.port));
      expect(r).toMatchObject({ ok: false, reason: 'protocol' });
      expect(r.message).toMatch(/not a RESP reply/);
    } finally {
      await http.close();
    }
  });

  it('reports protocol when a reply exceeds the read bound', async () => {
    const flood = await listen((socket) => socket.write(`$200000\r\n${'x'.repeat(200_000)}\r\n`));
    try {
      const r = await probe(spec(flood.port, { password: undefined }));
      expect(r).toMatchObject({ ok: false, reason: 'protocol' });
      expect(r.message).toMatch(/larger than/);
    } finally {
      await flood.close();
    }
  });
});

describe('INFO replication parsing', () => {
  it('computes per-replica lag from master_repl_offset', () => {
    const info = parseInfo('# Replication\r\nrole:master\r\nconnected_slaves:2\r\n'
      + 'slave0:ip=10.0.0.2,port=6380,state=online,offset=900,lag=0\r\n'
      + 'slave1:ip=10.0.0.3,port=6380,state=wait_bgsave,offset=0,lag=3\r\nmaster_repl_offset:1000\r\n');
    expect(replicationObservations(info)).toEqual({
      role: 'primary', masterReplOffset: 1000, connectedReplicas: 2,
      replicas: [
        { ip: '10.0.0.2', port: 6380, state: 'online', offset: 900, lagBytes: 100, lagSeconds: 0 },
        { ip: '10.0.0.3', port: 6380, state: 'wait_bgsave', offset: 0, lagBytes: 1000, lagSeconds: 3 },
      ],
    });
  });

  it('reads a replica whose link is down', () => {
    const info = parseInfo('role:slave\nmaster_host:10.0.0.1\nmaster_port:6379\nmaster_link_status:down\nmaster_last_io_seconds_ago:-1\nmaster_sync_in_progress:0\nslave_repl_offset:42\n');
    expect(replicationObservations(info)).toMatchObject({ role: 'replica', masterLinkStatus: 'down', slaveReplOffset: 42, upstream: '10.0.0.1:6379' });
  });
});

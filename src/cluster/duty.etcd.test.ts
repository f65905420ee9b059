import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../coordination/index.js';
import type { Subsystem } from '../core/lifecycle.js';
import { EtcdCluster } from '../testing/etcd-cluster.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { TcpRelay } from '../testing/tcp-relay.js';
import { Duty } from './duty.js';

/** Two daemons' duties in one process over a real etcd; the clock they share makes the order of events exact. */
let etcd: EtcdCluster;
const closers: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  etcd = await EtcdCluster.start({ size: 1 });
}, 30_000);
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});
afterAll(() => etcd?.stopAll());

type Entry = { who: string; event: 'start' | 'stop' | 'reload'; at: number; config?: string };

class Recorder implements Subsystem<string> {
  readonly name = 'backup';
  constructor(private readonly who: string, private readonly journal: Entry[]) {}
  async start(): Promise<void> {
    this.journal.push({ who: this.who, event: 'start', at: performance.now() });
  }
  async stop(): Promise<void> {
    this.journal.push({ who: this.who, event: 'stop', at: performance.now() });
  }
  async reload(config: string): Promise<void> {
    this.journal.push({ who: this.who, event: 'reload', at: performance.now(), config });
  }
}

function member(who: string, journal: Entry[], key: string, endpoints = etcd.clientUrls()): Duty<string> {
  const client = new EtcdClient({ endpoints, timeoutMs: 1000 });
  const duty = new Duty<string>({ inner: new Recorder(who, journal), etcd: client, key, member: who, ttlSeconds: 2, log: memoryLogger().log });
  closers.push(async () => {
    await duty.stop(AbortSignal.timeout(2000));
    await client.close();
  });
  return duty;
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whoever runs the duty now, by the journal; throws if two ever overlapped. */
function runners(journal: Entry[]): string[] {
  const on = new Set<string>();
  for (const e of journal) {
    if (e.event === 'start') {
      if (on.size > 0) throw new Error(`${e.who} started while ${[...on].join(', ')} ran`);
      on.add(e.who);
    } else if (e.event === 'stop') on.delete(e.who);
  }
  return [...on];
}

describe('Duty', () => {
  it('runs on one member; a stopped holder hands it over; a reload while standing by applies at the next start', async () => {
    const journal: Entry[] = [];
    const a = member('a', journal, '/d1/duty');
    await a.start();
    await until(() => runners(journal).length === 1, 'a holder');
    const b = member('b', journal, '/d1/duty');
    await b.start();
    await b.reload('v2');
    expect(runners(journal)).toEqual(['a']);
    const stoppedAt = performance.now();
    await a.stop(AbortSignal.timeout(2000));
    await until(() => runners(journal)[0] === 'b', 'b takes over');
    process.stdout.write(`[duty] handover after a clean stop (resign): ${Math.round(journal.at(-2)!.at - stoppedAt)} ms\n`);
    expect(journal.at(-1)).toMatchObject({ who: 'b', event: 'reload', config: 'v2' });
    expect(b.state.kind).toBe('running');
  }, 60_000);

  it('a holder cut off from etcd stops the duty before the other member starts it', async () => {
    const journal: Entry[] = [];
    const relay = await TcpRelay.start(new URL(etcd.clientUrls()[0]!).host);
    closers.push(() => relay.close());
    const a = member('a', journal, '/d2/duty', [relay.url]);
    await a.start();
    await until(() => runners(journal).length === 1, 'a holds');
    const b = member('b', journal, '/d2/duty');
    await b.start();
    const cutAt = performance.now();
    relay.cut('hang');
    await until(() => runners(journal)[0] === 'b', 'b takes over');
    const stop = journal.find((e) => e.who === 'a' && e.event === 'stop')!;
    const start = journal.findLast((e) => e.who === 'b' && e.event === 'start')!;
    process.stdout.write(`[duty] cut: a fenced ${Math.round(stop.at - cutAt)} ms after the cut, b started ${Math.round(start.at - cutAt)} ms after it (TTL 2000 ms)\n`);
    expect(stop.at).toBeLessThan(start.at);
    expect(a.state.kind).toBe('standby');
  }, 60_000);
});

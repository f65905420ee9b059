import { afterEach, describe, expect, it } from 'vitest';
import { BulwarkError } from '../core/errors.js';
import type { KeyValue, WatchEvent } from '../coordination/index.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { chooseFromScan, PrimaryTracker, type PrimaryTrackerOptions, type ScanAnswer, type TrackedMember } from './primary-tracker.js';

const MEMBERS: TrackedMember[] = [
  { name: 'm1', host: '127.0.0.1', port: 5001 },
  { name: 'm2', host: '127.0.0.1', port: 5002 },
  { name: 'm3', host: '127.0.0.1', port: 5003 },
];
const KEY = '/bulwark/db/main-db/leader';

/** What each member answers to pg_is_in_recovery(): 'down' throws. */
type Role = 'primary' | 'replica' | 'down';

class FakeMembers {
  readonly roles = new Map<string, Role>(MEMBERS.map((m) => [m.name, 'replica']));
  asked = 0;
  readonly query: PrimaryTrackerOptions['inRecovery'] = async (member) => {
    this.asked++;
    const role = this.roles.get(member.name);
    if (role === 'down' || role === undefined) throw new Error(`${member.name} refused the connection`);
    return role === 'replica';
  };
}

/** The leader key in memory, with get and a watch that ends when its signal aborts; `failing` makes every call throw. */
class FakeEtcd {
  private kv: KeyValue | undefined;
  private revision = 1;
  private readonly watchers = new Set<(e: WatchEvent) => void>();
  failing = false;

  put(value: string, newTerm = true): void {
    this.revision++;
    const createRevision = newTerm || !this.kv ? this.revision : this.kv.createRevision;
    this.kv = { key: KEY, value, createRevision, modRevision: this.revision, version: 1, lease: '1' };
    for (const w of this.watchers) w({ type: 'put', kv: this.kv, revision: this.revision });
  }

  delete(): void {
    this.revision++;
    const kv: KeyValue = { key: KEY, value: '', createRevision: 0, modRevision: this.revision, version: 0, lease: undefined };
    this.kv = undefined;
    for (const w of this.watchers) w({ type: 'delete', kv, revision: this.revision });
  }

  get = async (): Promise<{ kv: KeyValue | undefined; revision: number }> => {
    if (this.failing) throw new BulwarkError('COORDINATION_UNAVAILABLE', 'etcd unreachable (fake)');
    return { kv: this.kv, revision: this.revision };
  };

  watch = (_key: string, _from: number, signal: AbortSignal): AsyncGenerator<WatchEvent, void, undefined> => {
    const queue: WatchEvent[] = [];
    let wake: (() => void) | undefined;
    const push = (e: WatchEvent): void => {
      queue.push(e);
      wake?.();
    };
    const watchers = this.watchers;
    const failing = this.failing;
    return (async function* () {
      if (failing) throw new BulwarkError('COORDINATION_UNAVAILABLE', 'etcd unreachable (fake)');
      watchers.add(push);
      const onAbort = (): void => wake?.();
      signal.addEventListener('abort', onAbort);
      try {
        while (!signal.aborted) {
          const e = queue.shift();
          if (e) yield e;
          else await new Promise<void>((r) => (wake = r));
        }
      } finally {
        watchers.delete(push);
        signal.removeEventListener('abort', onAbort);
      }
    })();
  };
}

const trackers: PrimaryTracker[] = [];
afterEach(async () => {
  await Promise.all(trackers.splice(0).map((t) => t.stop()));
});

function track(options: Partial<PrimaryTrackerOptions> & { inRecovery: PrimaryTrackerOptions['inRecovery'] }) {
  const memory = memoryLogger();
  const tracker = new PrimaryTracker({
    database: 'main-db', members: MEMBERS, user: 'u', password: 'p', log: memory.log,
    rereadMs: 200, pollMs: 10, scanMs: 10, queryTimeoutMs: 100, ...options,
  });
  trackers.push(tracker);
  const seen: Array<string | undefined> = [];
  tracker.on('primary', (p) => seen.push(p?.member));
  return { tracker, seen, lines: memory.lines };
}

async function until(check: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('chooseFromScan', () => {
  const answers = (roles: Record<string, boolean | undefined>): ScanAnswer[] => Object.entries(roles).map(([member, inRecovery]) => ({ member, inRecovery }));

  it('picks the only writable member', () => {
    expect(chooseFromScan(answers({ m1: true, m2: false, m3: undefined }), 'm1', 0, 3)).toMatchObject({ primary: 'm2', misses: 0 });
  });

  it('two writable members are a split brain: no one', () => {
    const d = chooseFromScan(answers({ m1: false, m2: false, m3: true }), 'm1', 0, 3);
    expect(d.primary).toBeUndefined();
    expect(d.splitBrain).toEqual(['m1', 'm2']);
  });

  it('keeps a primary that merely did not answer, for fewer than missesToDrop rounds', () => {
    let d = chooseFromScan(answers({ m1: undefined, m2: true }), 'm1', 0, 3);
    expect(d).toMatchObject({ primary: 'm1', misses: 1 });
    d = chooseFromScan(answers({ m1: undefined, m2: true }), 'm1', d.misses, 3);
    expect(d).toMatchObject({ primary: 'm1', misses: 2 });
    d = chooseFromScan(answers({ m1: undefined, m2: true }), 'm1', d.misses, 3);
    expect(d.primary).toBeUndefined();
  });

  it('drops at once a primary that answers it is in recovery; nothing writable and no current is no one', () => {
    expect(chooseFromScan(answers({ m1: true, m2: true }), 'm1', 0, 3).primary).toBeUndefined();
    expect(chooseFromScan(answers({ m1: undefined, m2: undefined }), undefined, 0, 3).primary).toBeUndefined();
  });
});

describe('PrimaryTracker without etcd (scan)', () => {
  it('follows the single writable member; two writable → no one, and an error is logged', async () => {
    const pg = new FakeMembers();
    pg.roles.set('m1', 'primary');
    const { tracker, seen, lines } = track({ inRecovery: pg.query });
    await tracker.start();
    await until(() => seen.length === 1, 'first decision');
    expect(tracker.current).toEqual({ member: 'm1', host: '127.0.0.1', port: 5001 });

    pg.roles.set('m2', 'primary');
    await until(() => seen.length === 2, 'split brain decision');
    expect(seen).toEqual(['m1', undefined]);
    expect(lines.some((l) => l.level === 50 && String(l.msg).includes('split brain'))).toBe(true);

    pg.roles.set('m1', 'down');
    await until(() => seen.length === 3, 'm2 alone');
    expect(seen).toEqual(['m1', undefined, 'm2']);
  });

  it('emits its first decision even when it is "no one"', async () => {
    const pg = new FakeMembers();
    const { tracker, seen } = track({ inRecovery: pg.query });
    await tracker.start();
    await until(() => seen.length === 1, 'first decision');
    expect(seen).toEqual([undefined]);
  });
});

describe('PrimaryTracker with the leader key', () => {
  it('routes to the key holder once it accepts writes; drops it at once when the key moves', async () => {
    const pg = new FakeMembers();
    const etcd = new FakeEtcd();
    pg.roles.set('m1', 'primary');
    etcd.put('m1');
    const { tracker, seen } = track({ inRecovery: pg.query, etcd });
    await tracker.start();
    await until(() => seen.length === 1, 'm1');
    expect(seen).toEqual(['m1']);

    // The key moves to m2 while m1 is still writable (not fenced yet) and m2 not promoted yet.
    etcd.put('m2');
    await until(() => seen.length === 2, 'm1 dropped');
    expect(seen).toEqual(['m1', undefined]);
    expect(tracker.status).toEqual({ kind: 'waiting', member: 'm2' });
    const asked = pg.asked;
    await until(() => pg.asked >= asked + 3, 'm2 polled');
    expect(seen).toEqual(['m1', undefined]);

    pg.roles.set('m2', 'primary');
    await until(() => seen.length === 3, 'm2 writable');
    expect(seen).toEqual(['m1', undefined, 'm2']);

    etcd.delete();
    await until(() => seen.length === 4, 'key deleted');
    expect(seen.at(-1)).toBeUndefined();
  });

  it('a new term of the same member is waited for again; a renewal (same term) changes nothing', async () => {
    const pg = new FakeMembers();
    const etcd = new FakeEtcd();
    pg.roles.set('m1', 'primary');
    etcd.put('m1');
    const { tracker, seen } = track({ inRecovery: pg.query, etcd });
    await tracker.start();
    await until(() => seen.length === 1, 'm1');
    etcd.put('m1', false);
    // Two re-reads pass without a change.
    await new Promise((r) => setTimeout(r, 450));
    expect(seen).toEqual(['m1']);
    etcd.put('m1', true);
    await until(() => seen.length === 3, 'm1 again after a new term');
    expect(seen).toEqual(['m1', undefined, 'm1']);
  });

  it('never routes to a member the configuration does not list', async () => {
    const pg = new FakeMembers();
    const etcd = new FakeEtcd();
    etcd.put('intruder');
    const { tracker, seen, lines } = track({ inRecovery: pg.query, etcd });
    await tracker.start();
    await until(() => seen.length === 1, 'decision');
    expect(seen).toEqual([undefined]);
    expect(lines.some((l) => l.level === 50 && String(l.msg).includes('not in databases.main-db.postgres.members'))).toBe(true);
  });

  it('while etcd cannot be read, asks the members; back on the key without dropping the same primary', async () => {
    const pg = new FakeMembers();
    const etcd = new FakeEtcd();
    pg.roles.set('m1', 'primary');
    etcd.put('m1');
    etcd.failing = true;
    const { tracker, seen } = track({ inRecovery: pg.query, etcd });
    await tracker.start();
    await until(() => seen.length === 1, 'scan decision');
    expect(seen).toEqual(['m1']);
    etcd.failing = false;
    await until(() => tracker.status.kind === 'primary' && pg.asked > 0, 'following the key');
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual(['m1']);
    // Now on the key again: a move is followed.
    etcd.put('m2');
    await until(() => seen.length === 2, 'm1 dropped');
    expect(seen).toEqual(['m1', undefined]);
  });

  it('stop() ends the loops and is safe to call twice', async () => {
    const pg = new FakeMembers();
    const etcd = new FakeEtcd();
    etcd.put('m2');
    let stopped = 0;
    const { tracker } = track({ inRecovery: pg.query, etcd, onStopped: async () => void stopped++ });
    await tracker.start();
    await until(() => tracker.status.kind === 'waiting', 'waiting for m2');
    await Promise.all([tracker.stop(), tracker.stop()]);
    expect(tracker.status).toEqual({ kind: 'stopped' });
    expect(stopped).toBe(1);
    const asked = pg.asked;
    await new Promise((r) => setTimeout(r, 50));
    expect(pg.asked).toBe(asked);
  });
});

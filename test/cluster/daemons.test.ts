import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { EtcdClient } from '../../src/coordination/index.js';
import { LATEST_SCHEMA_VERSION } from '../../src/store/index.js';
import { configYaml, createToken, Harness, SECRET, logLines, startDaemon, waitFor, type Daemon } from '../daemon/helpers.js';

/**
 * Three real `bulwark up` processes sharing one configuration and one etcd:
 * each singleton duty runs on exactly one of them, moves when its holder is
 * SIGKILLed, and a holder paused (SIGSTOP) past its lease stops its duties
 * when it wakes. Handover times are printed, not asserted tightly.
 */
const h = new Harness();
let etcd: EtcdCluster;
const DUTIES = ['alerting', 'backup', 'drills'];
const TTL_S = 3;

beforeAll(async () => {
  etcd = await EtcdCluster.start({ size: 1 });
}, 30_000);
afterAll(() => etcd?.stopAll());
afterEach(() => h.cleanup());

function clusterYaml(prefix: string): string {
  return configYaml('cluster-test', `coordination:\n  etcd: { endpoints: [${etcd.clientUrls()[0]}], prefix: ${prefix} }\ncluster:\n  lease_ttl: ${TTL_S}s\n`);
}

interface Member { name: string; daemon: Daemon }

/** One after the other: on a loaded 2-core machine three tsx starts at once can take longer than startDaemon waits. */
async function startMembers(prefix: string, names: string[]): Promise<Member[]> {
  const yaml = clusterYaml(prefix);
  const members: Member[] = [];
  for (const name of names) members.push({ name, daemon: await startDaemon(h, { yaml, extraArgs: ['--node', name], readyTimeoutMs: 90_000 }) });
  return members;
}

type DutyEvent = { duty: string; event: 'duty.started' | 'duty.stopped'; at: number; reason?: string };

function dutyEvents(m: Member): DutyEvent[] {
  return logLines(m.daemon.proc.stderr())
    .filter((l) => l.event === 'duty.started' || l.event === 'duty.stopped')
    .map((l) => ({ duty: String(l.duty), event: l.event as DutyEvent['event'], at: Date.parse(String(l.time)), ...(l.reason ? { reason: String(l.reason) } : {}) }));
}

/** The duties a member runs now, by its own log. */
function running(m: Member): Set<string> {
  const on = new Set<string>();
  for (const e of dutyEvents(m)) {
    if (e.event === 'duty.started') on.add(e.duty);
    else on.delete(e.duty);
  }
  return on;
}

/** Each duty's holders among `members`, once every duty has exactly one. */
async function oneHolderEach(members: Member[], what: string): Promise<Map<string, Member>> {
  return waitFor(() => {
    const holders = new Map<string, Member[]>();
    for (const m of members) for (const d of running(m)) holders.set(d, [...(holders.get(d) ?? []), m]);
    for (const list of holders.values()) if (list.length > 1) throw new Error(`a duty runs on ${list.map((m) => m.name).join(' and ')}`);
    return DUTIES.every((d) => holders.get(d)?.length === 1) ? new Map([...holders].map(([d, l]) => [d, l[0]!])) : undefined;
  }, what, 30_000);
}

describe('a cluster of bulwark daemons', () => {
  it('runs each duty on exactly one member, shows it in cluster status and the API, and moves duties off a SIGKILLed holder', async () => {
    const members = await startMembers('/c1', ['a', 'b', 'c']);
    const holders = await oneHolderEach(members, 'each duty on one member');

    const cli = await h.run(['cluster', 'status', '-c', members[0]!.daemon.configFile, '--json'], { TEST_SECRET: SECRET }, 120_000);
    expect(cli.code, cli.stderr).toBe(0);
    const status = JSON.parse(cli.stdout) as { members: Array<{ name: string; schemaVersion: number }>; duties: Array<{ duty: string; holder: string; leaseRemainingSeconds: number }> };
    expect(status.members.map((m) => m.name).sort()).toEqual(['a', 'b', 'c']);
    expect(status.members.every((m) => m.schemaVersion === LATEST_SCHEMA_VERSION)).toBe(true);
    for (const d of status.duties) expect(d.holder).toBe(holders.get(d.duty)!.name);

    const token = await createToken(h, members[1]!.daemon.dataDir, 'ops');
    const api = await fetch(`${members[1]!.daemon.base}/api/v1/cluster`, { headers: { authorization: `Bearer ${token}` } });
    const view = (await api.json()) as { self: string; local: Record<string, { kind: string }> };
    expect(view.self).toBe('b');
    for (const duty of DUTIES) expect(view.local[duty]!.kind).toBe(holders.get(duty)!.name === 'b' ? 'running' : 'standby');

    const victim = holders.get('backup')!;
    const moved = DUTIES.filter((d) => holders.get(d) === victim);
    const killedAt = Date.now();
    victim.daemon.proc.child.kill('SIGKILL');
    await victim.daemon.proc.exited;
    const survivors = members.filter((m) => m !== victim);
    const after = await oneHolderEach(survivors, 'the duties on the survivors');
    for (const duty of moved) {
      const took = survivors.flatMap((m) => dutyEvents(m)).find((e) => e.duty === duty && e.event === 'duty.started' && e.at >= killedAt - 1000);
      console.log(`[cluster] SIGKILL of ${victim.name}: ${duty} moved to ${after.get(duty)!.name} in ${took ? took.at - killedAt : '?'} ms (lease TTL ${TTL_S * 1000} ms)`);
    }
  }, 300_000);

  it('a holder paused past its lease stops its duties when it wakes, after another member took them', async () => {
    const members = await startMembers('/c2', ['p', 'q']);
    const holders = await oneHolderEach(members, 'each duty on one member');
    const paused = holders.get('backup')!;
    const other = members.find((m) => m !== paused)!;
    const pausedDuties = DUTIES.filter((d) => holders.get(d) === paused);
    const pausedAt = Date.now();
    paused.daemon.proc.child.kill('SIGSTOP');
    await waitFor(() => (pausedDuties.every((d) => running(other).has(d)) ? true : undefined), 'the other member takes the paused one\'s duties', 30_000);
    const takenAt = Date.now();
    const resumedAt = Date.now();
    paused.daemon.proc.child.kill('SIGCONT');
    const stops = await waitFor(() => {
      const found = dutyEvents(paused).filter((e) => e.event === 'duty.stopped' && e.at >= resumedAt - 1000);
      return pausedDuties.every((d) => found.some((e) => e.duty === d)) ? found : undefined;
    }, 'the resumed member stops its duties', 30_000);
    for (const e of stops) console.log(`[cluster] SIGSTOP of ${paused.name}: ${e.duty} taken by ${other.name} after ${takenAt - pausedAt} ms; the woken holder stopped it ${e.at - resumedAt} ms after SIGCONT (${e.reason})`);
    expect(stops.every((e) => /lease/.test(e.reason ?? ''))).toBe(true);
    // The woken member does not start them again while the other one holds them.
    expect(running(paused).size).toBe(0);
    expect(pausedDuties.every((d) => running(other).has(d))).toBe(true);
  }, 300_000);

  it('refuses to join a cluster whose members run another store schema, and says why', async () => {
    const client = new EtcdClient({ endpoints: etcd.clientUrls() });
    try {
      const lease = await client.grantLease(30);
      const old = { name: 'old', version: '0.0.1', schemaVersion: LATEST_SCHEMA_VERSION - 1, address: '10.0.0.9:9180', started: new Date().toISOString() };
      await client.put('/c3/cluster/members/old', JSON.stringify(old), { lease: lease.id });
      const yaml = clusterYaml('/c3');
      const dir = await h.tempDir();
      const { writeFile } = await import('node:fs/promises');
      await writeFile(`${dir}/bulwark.yaml`, yaml);
      const result = await h.run(['up', '-c', `${dir}/bulwark.yaml`, '--data-dir', `${dir}/data`, '--listen', '127.0.0.1:0', '--node', 'new', '--log-format', 'json'], { TEST_SECRET: 'x' });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/refuses to join the cluster: its store schema differs from the running members' old \(bulwark 0\.0\.1, store schema \d+\)/);
      await client.revokeLease(lease.id);
    } finally {
      await client.close();
    }
  }, 60_000);
});

import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BulwarkConfig } from '../../src/config/index.js';
import { DrillRunner, reportMarkdown, type DrillReport, type FailoverMeasurement } from '../../src/drills/index.js';
import { configFrom } from '../../src/drills/testing/world.js';
import { queryRows } from '../../src/postgres-ha/pg-query.js';
import { HaCluster, waitUntilAsync } from '../../src/postgres-ha/testing/ha-cluster.js';
import { openSqliteStore, type Store } from '../../src/store/index.js';
import { Harness } from '../daemon/helpers.js';

/**
 * The database failover drill on a real HA cluster: 3 etcd, 3 PostgreSQL 15
 * members under their HA loops (in this process), synchronous mode, ttl 10 s,
 * loop 1 s. The drill runs as `bulwark drill run` does: it knows the cluster
 * only through bulwark.yaml (members, superuser, coordination.etcd).
 */
describe('database failover drill', () => {
  let c: HaCluster;
  let config: BulwarkConfig;
  let configPath: string;
  let dataDir: string;
  let store: Store;
  const h = new Harness();

  beforeAll(async () => {
    c = await HaCluster.start({ synchronousMode: true, ttlSeconds: 10, loopWaitMs: 1000 });
    const members = c.members.map((m) => `{ name: ${m.name}, host: 127.0.0.1, port: ${m.pg.endpoint.port} }`).join(', ');
    const yaml = [
      'version: 1',
      'sla_tiers: { gold: { availability: 99.9%, rto: 1m, rpo: 1s } }',
      'coordination:', `  etcd: { endpoints: [${c.etcd.clientUrls().join(', ')}] }`,
      'databases:', '  main-db:', '    postgres:',
      `      members: [${members}]`, '      synchronous: true', '      ttl: 10s', '      loop_wait: 1s',
      `      superuser: bulwark`, `      superuser_password: "${c.password}"`,
      'dr_testing:',
      '  failover_testing: { frequency: quarterly, tier: gold, duration: "4 hours maximum" }',
      '  kill-primary: { type: database_failover, frequency: quarterly, database: main-db, tier: gold, mode: kill }', '',
    ].join('\n');
    dataDir = join(c.dir, 'bulwark-data');
    await mkdir(dataDir);
    configPath = join(c.dir, 'bulwark.yaml');
    await writeFile(configPath, yaml);
    config = configFrom(yaml);
    store = await openSqliteStore({ path: join(dataDir, 'bulwark.db') });
    await store.migrate();
  }, 180_000);
  afterAll(async () => {
    await h.cleanup();
    await store?.close();
    await c?.stop();
  }, 120_000);

  const runner = () => new DrillRunner({ config, dataDir, store });
  const drillSchemas = async (): Promise<number> => {
    const leader = (await c.leader())!;
    const rows = await queryRows<{ n: string }>(c.member(leader).pg.endpoint, "SELECT count(*) AS n FROM pg_namespace WHERE nspname LIKE 'bulwark\\_drill\\_%'", [], { timeoutMs: 10_000 });
    return Number(rows[0]!.n);
  };
  const print = (r: DrillReport): void => {
    const f = r.failover!;
    process.stderr.write(`${r.drill} (${f.mode}) ${r.outcome}: RTO ${f.rto?.measuredMs} ms (detection ${f.phasesMs.detection}, promotion ${f.phasesMs.promotion}, first write ${f.phasesMs.firstWrite}), `
      + `write pause ${f.writePauseMs} ms, longest gap ${f.longestGapMs} ms, manager ${f.managerMs} ms, back to redundancy ${f.redundantAfterMs} ms, `
      + `acknowledged ${f.acknowledged}, lost ${f.lost}, unacknowledged ${f.unacknowledged} (${f.unacknowledgedKept} kept)\n`);
  };
  const expectWhole = (r: DrillReport, f: FailoverMeasurement): void => {
    expect(r.outcome, JSON.stringify(r, null, 2)).toBe('passed');
    expect(f).toMatchObject({ synchronous: true, lost: 0, lostSeqs: [], problems: [], passed: true, rto: { targetMs: 60_000, passed: true }, rpo: { measuredMs: 0, targetMs: 1000, passed: true } });
    expect(f.to).not.toBe(f.from);
    expect(f.acknowledged).toBeGreaterThanOrEqual(300);
    expect(f.rto!.measuredMs).toBeCloseTo(f.phasesMs.detection! + f.phasesMs.promotion! + f.phasesMs.firstWrite!, 0);
  };

  it('dry run: prints the steps without touching the cluster', async () => {
    const steps = runner().plan('kill-primary');
    expect(steps.map((s) => s.step)).toEqual(['lock', 'recover', 'check', 'prepare', 'warm-up', 'kill', 'measure', 'settle', 'count', 'teardown', 'grade']);
    expect(steps.at(-1)!.touches).toContain('tier gold (RTO 1m, RPO 1.0s)');
    expect(runner().plan('failover_testing')[5]!.step).toBe('switchover');
  });

  it('a switchover under the writer in synchronous mode: 0 acknowledged writes lost, passes its tier, leaves no schema', async () => {
    const before = await c.leader();
    const report = await runner().run('failover_testing');
    print(report);
    const f = report.failover!;
    expectWhole(report, f);
    expect(f).toMatchObject({ mode: 'switchover', from: before, database: 'main-db' });
    expect(await c.leader()).toBe(f.to);
    expect(report.timeline.map((s) => s.step)).toEqual(['check', 'prepare', 'warm-up', 'switchover', 'settle', 'count', 'detect', 'promote', 'first-write', 'teardown']);
    expect(await drillSchemas()).toBe(0);
    expect(existsSync(join(dataDir, 'drills', 'journal.json'))).toBe(false);
    expect((await store.drillRuns.get(report.id))).toMatchObject({ outcome: 'passed', type: 'failover_testing' });
    const md = reportMarkdown(report);
    expect(md).toContain('| acknowledged writes lost | 0 of');
    expect(md).toContain('planned switchover of main-db (synchronous replication)');
  }, 300_000);

  it('a SIGKILL of the primary\'s postmaster: measured, nothing acknowledged lost, the old primary back as a replica', async () => {
    const before = (await c.leader())!;
    const report = await runner().run('kill-primary');
    print(report);
    const f = report.failover!;
    expectWhole(report, f);
    expect(f).toMatchObject({ mode: 'kill', from: before });
    expect(f.redundantAfterMs).toBeGreaterThan(0);
    expect(await c.streamingFrom(before, (await c.leader())!)).toBe(true);
    expect(await drillSchemas()).toBe(0);
  }, 300_000);

  it('bulwark drill run SIGKILLed mid-drill: the next start drops the schema, sees the killed primary back as a replica, records the run aborted', async () => {
    const journalPath = join(dataDir, 'drills', 'journal.json');
    const before = (await c.leader())!;
    const cli = h.spawn(['drill', 'run', 'kill-primary', '-c', configPath, '--data-dir', dataDir]);
    type Journal = { run: { id: string }; entries: Array<{ kind: string; member?: string; schema?: string }> };
    let journal: Journal | undefined;
    // Killed once the primary is gone (its rejoin journalled) and the drill's schema exists.
    await waitUntilAsync(async () => {
      if (cli.child.exitCode !== null) return true;
      journal = JSON.parse(await readFile(journalPath, 'utf8')) as Journal;
      return journal.entries.some((e) => e.kind === 'pg-rejoin') && (await c.leader()) !== before;
    }, 180_000, 'the drill to kill the primary');
    expect(cli.child.exitCode, `bulwark drill run exited early: ${cli.stdout()} ${cli.stderr()}`).toBeNull();
    cli.child.kill('SIGKILL');
    await cli.exited;
    expect(journal!.entries.map((e) => e.kind)).toEqual(['pg-schema', 'pg-rejoin']);

    const report = await runner().recover();
    expect(report).toMatchObject({ id: journal!.run.id, outcome: 'aborted' });
    const detail = report!.timeline[0]!.detail!;
    expect(detail).toMatch(new RegExp(`${before} streams from m\\d again`));
    expect(detail).toContain(`dropped schema ${journal!.entries[0]!.schema}`);
    expect(existsSync(journalPath)).toBe(false);
    expect(await drillSchemas()).toBe(0);
    expect(await c.streamingFrom(before, (await c.leader())!)).toBe(true);
    expect((await store.drillRuns.get(journal!.run.id))?.outcome).toBe('aborted');
  }, 400_000);
});

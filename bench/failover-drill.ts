/**
 * The database failover drill (src/drills) on the same cluster bench/failover.ts uses: one
 * HaCluster (3 etcd, 3 PostgreSQL, 3 MemberManagers in this process, loopback), synchronous
 * mode, Bulwark's default HA timings (ttl 10 s, loop_wait 2 s), and `bulwark drill run`'s code
 * path (DrillRunner, bulwark.yaml describing the cluster, a SQLite store). Runs the drill N times
 * in each mode (switchover, kill) and prints each run's figures, for docs/benchmarks.md beside
 * bench/failover.ts's.
 *
 *   npx tsx bench/failover-drill.ts [--runs 1] [--json]
 */
import { mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DrillRunner, type DrillReport } from '../src/drills/index.js';
import { configFrom } from '../src/drills/testing/world.js';
import { HaCluster } from '../src/postgres-ha/testing/ha-cluster.js';
import { openSqliteStore } from '../src/store/index.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' }, json: { type: 'boolean', default: false } } });
const RUNS = Number(values.runs);
const log = (line: string) => process.stderr.write(`${line}\n`);

function yamlOf(c: HaCluster): string {
  const members = c.members.map((m) => `{ name: ${m.name}, host: 127.0.0.1, port: ${m.pg.endpoint.port} }`).join(', ');
  return [
    'version: 1',
    'sla_tiers: { gold: { availability: 99.9%, rto: 1m, rpo: 1s } }',
    'coordination:', `  etcd: { endpoints: [${c.etcd.clientUrls().join(', ')}] }`,
    'databases:', '  main-db:', '    postgres:',
    `      members: [${members}]`, '      synchronous: true', '      ttl: 10s', '      loop_wait: 2s',
    '      superuser: bulwark', `      superuser_password: "${c.password}"`,
    'dr_testing:',
    '  switchover: { type: database_failover, frequency: quarterly, database: main-db, tier: gold, mode: switchover }',
    '  kill: { type: database_failover, frequency: quarterly, database: main-db, tier: gold, mode: kill }', '',
  ].join('\n');
}

function row(r: DrillReport): Record<string, unknown> {
  const f = r.failover;
  return {
    drill: r.drill, outcome: r.outcome, from: f?.from, to: f?.to, rtoMs: f?.rto?.measuredMs, ...f?.phasesMs, writePauseMs: f?.writePauseMs,
    managerMs: f?.managerMs, redundantAfterMs: f?.redundantAfterMs, acknowledged: f?.acknowledged, lost: f?.lost, unacknowledged: f?.unacknowledged, issues: r.issues,
  };
}

const loadBefore = loadavg()[0]!.toFixed(2);
log('starting 3 etcd + 3 PostgreSQL + 3 managers (synchronous, ttl 10 s, loop_wait 2 s)...');
const c = await HaCluster.start({ synchronousMode: true, ttlSeconds: 10, loopWaitMs: 2000 });
const rows: Array<Record<string, unknown>> = [];
try {
  const dataDir = join(c.dir, 'bulwark-data');
  await mkdir(dataDir);
  const store = await openSqliteStore({ path: join(dataDir, 'bulwark.db') });
  await store.migrate();
  const runner = new DrillRunner({ config: configFrom(yamlOf(c)), dataDir, store });
  for (let i = 0; i < RUNS; i++) {
    for (const drill of ['switchover', 'kill']) {
      const r = row(await runner.run(drill));
      rows.push(r);
      log(JSON.stringify(r));
    }
  }
  await store.close();
} finally {
  await c.stop();
}
const machine = { cpus: cpus().length, loadBefore, loadAfter: loadavg()[0]!.toFixed(2) };
if (values.json) console.log(JSON.stringify({ machine, rows }, null, 1));
else {
  console.log(`failover drill, synchronous, ttl 10 s, loop_wait 2 s; ${machine.cpus} cores, load ${machine.loadBefore} before, ${machine.loadAfter} after`);
  console.log('| drill | outcome | RTO | detection | promotion | first write | write pause | new leader\'s own | back to redundancy | acknowledged | lost |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${String(r.drill)} | ${String(r.outcome)} | ${String(r.rtoMs)} | ${String(r.detection)} | ${String(r.promotion)} | ${String(r.firstWrite)} | ${String(r.writePauseMs)} | ${String(r.managerMs)} | ${String(r.redundantAfterMs)} | ${String(r.acknowledged)} | ${String(r.lost)} |`);
}
process.exit(rows.some((r) => r.outcome !== 'passed') ? 1 : 0);

/**
 * Issue 18's data-tier benchmark in one invocation: Redis failover time against Sentinel's
 * configured bound (bench/redis-failover.ts), then the switchover pause clients see with and
 * without PgBouncer's PAUSE (bench/pgbouncer.ts), one after the other on the same machine so
 * neither loads the other. Each part prints its own table; the exit code is the first failure's.
 *
 *   npx tsx bench/data-tier.ts [--trials 3]
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '3' } } });
const parts: Array<[string, string[]]> = [
  ['Redis failover under Sentinel', ['bench/redis-failover.ts', '--trials', values.trials]],
  ['PostgreSQL switchover through PgBouncer, with and without PAUSE', ['bench/pgbouncer.ts', '--trials', values.trials]],
];
let exitCode = 0;
for (const [title, args] of parts) {
  console.log(`\n== ${title} (load average ${loadavg()[0]!.toFixed(1)})`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', ...args], { stdio: 'inherit' });
  if (run.status !== 0 && exitCode === 0) exitCode = run.status ?? 1;
}
process.exitCode = exitCode;

/**
 * Redis failover under Sentinel, as `bulwark up` runs it: RedisHaService supervising two
 * redis-server members and three Sentinels (quorum 2) on loopback, the gateway's Redis front door
 * following the Sentinels, and a writer (`SET` per write, `WAIT 1 1000` after each with --wait)
 * going through the front door. Each trial SIGKILLs the current master and prints:
 *
 *  - failover: kill → the Sentinels name a new master (SENTINEL get-master-addr-by-name);
 *  - resumed: kill → the first write acknowledged after the first error the kill caused;
 *  - Sentinel's bound: down-after + 3 s (election and promotion; config/schema-redis.ts);
 *  - acknowledged writes lost (absent from the new master), and the old master's rejoin time.
 *
 * The next trial starts once the old master is a linked replica again.
 * Run: npx tsx bench/redis-failover.ts [--trials 3] [--down-after-ms 1000] [--wait]
 */
import { parseArgs } from 'node:util';
import { sentinelFailoverEstimateMs } from '../src/config/index.js';
import { readRedisStatus } from '../src/redis-ha/index.js';
import { FrontDoorWriter, lostWrites, startDeployment, until } from '../test/redis-ha/harness.js';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '3' }, 'down-after-ms': { type: 'string', default: '1000' }, wait: { type: 'boolean', default: false } } });
const trials = Number(values.trials);
const downAfterMs = Number(values['down-after-ms']);
const d = await startDeployment({ members: 2, sentinels: 3, downAfterMs });
const linked = async (): Promise<boolean> => {
  const status = await readRedisStatus('cache', d.config.databases.cache);
  return status.members.some((m) => m.link === 'up') && status.sentinels.every((s) => s.agrees);
};
const bound = sentinelFailoverEstimateMs(d.config.databases.cache!.redis!.sentinel!);
console.log(`redis failover: 2 members, 3 Sentinels (quorum 2), down-after ${downAfterMs} ms, Sentinel's bound ${bound} ms, writer ${values.wait ? 'SET + WAIT 1' : 'SET (asynchronous)'}`);
console.log('trial  failover_ms  resumed_ms  bound_ms  acknowledged  lost  client_errors  rejoin_ms');
try {
  for (let trial = 1; trial <= trials; trial++) {
    await until('a linked replica and agreeing Sentinels', linked, 120_000);
    const oldPort = (await d.masterPort())!;
    const writer = new FrontDoorWriter(d.frontDoor, values.wait);
    writer.start();
    await writer.acknowledgedMore(200);
    const killedAt = Date.now();
    process.kill(d.pidOf('member', d.memberPorts.indexOf(oldPort)), 'SIGKILL');
    let switchedAt = 0;
    await until('a new master', async () => {
      const port = await d.masterPort();
      if (port !== undefined && port !== oldPort) switchedAt = Date.now();
      return switchedAt > 0;
    }, 120_000);
    await writer.acknowledgedMore(100, 120_000);
    const report = await writer.stop();
    const firstError = report.errorsAt.find((at) => at >= killedAt) ?? killedAt;
    const resumedAt = Math.min(...[...report.ackedAt.values()].filter((at) => at > firstError));
    const lost = await lostWrites((await d.masterPort())!, report.ackedAt.keys());
    await until('the old master to rejoin', async () => (await d.role(oldPort)) === 'slave', 120_000);
    console.log([trial, switchedAt - killedAt, resumedAt - killedAt, bound, report.acknowledged, lost.length, report.errors, Date.now() - killedAt].join('  '));
  }
} finally {
  await d.stop();
}

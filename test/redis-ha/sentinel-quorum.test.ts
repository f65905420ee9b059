/**
 * Sentinel's quorum under bulwark (quorum 2 of 3 Sentinels). With one Sentinel
 * cut off (SIGSTOP), the two left are a majority: they fail over, and the old
 * master rejoins as a replica. With a second one cut off, the one left cannot
 * reach ODOWN and does not fail over. (A Sentinel that is resumed after a
 * pause enters TILT for 30 s, so the test never counts on a resumed one.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sleep } from '../../src/core/time.js';
import { startDeployment, until, type Deployment } from './harness.js';

let deployment: Deployment;
const paused: number[] = [];
beforeAll(async () => {
  deployment = await startDeployment({ members: 2, sentinels: 3, downAfterMs: 1_000 });
  await until('the Sentinels to agree on the master', async () => (await deployment.masterPort()) === deployment.memberPorts[0]);
});
afterAll(async () => {
  for (const pid of paused) process.kill(pid, 'SIGCONT');
  await deployment?.stop();
});

function pause(index: number): void {
  const pid = deployment.pidOf('sentinel', index);
  process.kill(pid, 'SIGSTOP');
  paused.push(pid);
}

it('with a minority of Sentinels cut off the majority fails over and the old master rejoins; a minority alone does not fail over', async () => {
  const d = deployment;
  const [first, second] = d.memberPorts as [number, number];
  pause(2);
  let killedAt = Date.now();
  process.kill(d.pidOf('member', 0), 'SIGKILL');
  await until('the majority to fail over', async () => (await d.masterPort()) === second);
  console.log(`[redis quorum] two Sentinels of three: new master ${Date.now() - killedAt} ms after the kill`);
  await until('the old master to rejoin as a replica', async () => (await d.role(first)) === 'slave');
  console.log(`[redis quorum] old master rejoined as a replica ${Date.now() - killedAt} ms after the kill`);

  pause(1);
  killedAt = Date.now();
  process.kill(d.pidOf('member', 1), 'SIGKILL');
  // The absence of a failover can only be watched for a while: past Sentinel's bound several times over.
  const window = 5 * d.downAfterMs + 3_000;
  while (Date.now() - killedAt < window) {
    expect(await d.masterPort()).toBe(second);
    expect(await d.role(first)).toBe('slave');
    await sleep(200);
  }
  console.log(`[redis quorum] one Sentinel of three: no failover in ${Date.now() - killedAt} ms`);
});

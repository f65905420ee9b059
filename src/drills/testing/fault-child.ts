/**
 * A drill process for crash tests: journals and applies network faults in a
 * namespace, says "applied", then waits to be killed.
 * Usage: fault-child.ts DRILLS_DIR NETNS [netem]
 */
import { RevertJournal } from '../journal.js';
import { netemFault, partitionFault } from '../faults/network.js';

const [drillsDir, netns, withNetem] = process.argv.slice(2);
const journal = RevertJournal.in(drillsDir!);
await journal.begin({ id: `crash-${Date.now()}`, drill: 'netns-crash', type: 'zone', startedAt: Date.now() });
if (withNetem === 'netem') await netemFault(journal, { netns: netns!, dev: 'lo' }, { delayMs: 100, lossPercent: 10 });
await partitionFault(journal, { netns: netns!, dev: 'lo' });
process.stdout.write('applied\n');
setInterval(() => undefined, 60_000);

/**
 * The gateway as the daemon runs it (Gateway + primaryTrackerFactory), in its own
 * process so that `gateway.workers > 1` can fork its cluster workers (they load
 * worker.ts through tsx, which a vitest worker does not provide). The
 * configuration comes in BULWARK_TEST_YAML; "ready" on stdout once listening;
 * SIGTERM stops it. Logs (JSON) go to stderr.
 */
import { Registry } from 'prom-client';
import { parseConfigText } from '../../src/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { EventBus } from '../../src/events/index.js';
import { Gateway } from '../../src/gateway/index.js';
import { primaryTrackerFactory } from '../../src/postgres-ha/index.js';
import type { ProbeEvents } from '../../src/probes/index.js';

const loaded = parseConfigText(process.env.BULWARK_TEST_YAML ?? '', 'harness.yaml', { lint: false });
if (!loaded.config) throw new Error(`bad harness configuration: ${JSON.stringify(loaded.findings)}`);
const log = createLogger({ level: 'info' });
const gateway = new Gateway(loaded.config, new EventBus<ProbeEvents>(), new Registry(), log.child({ subsystem: 'gateway' }), {
  primaries: primaryTrackerFactory({ log: log.child({ subsystem: 'postgres-ha' }) }),
});
await gateway.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void gateway.stop(AbortSignal.timeout(3_000)).finally(() => process.exit(0));
});

/**
 * The outbox sender alone, in process: N due notifications in a SQLite store,
 * one webhook channel to a receiver in a child process (so that it does not
 * share this event loop). Prints the wall time until every row is recorded
 * delivered, the process's CPU time over it, and the event loop's delay while
 * it ran: what the probes, sharing the daemon's loop, would wait.
 *
 *   node --import tsx bench/alerting-sender.ts [--rows 2500] [--runs 3]
 *
 * bench/alerting.ts measures the whole daemon; this isolates the sender so
 * that its cost can be compared before and after a change on a machine whose
 * load varies (CPU time per notification moves far less than wall time).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { createChannel } from '../src/alerting/channels/index.js';
import { registerAlertingMetrics } from '../src/alerting/metrics.js';
import { OutboxSender } from '../src/alerting/sender.js';
import type { OutgoingMessage } from '../src/alerting/types.js';
import { silentLogger } from '../src/core/logger.js';
import { openSqliteStore, type OutboxInput } from '../src/store/index.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '2500' }, runs: { type: 'string', default: '3' } } });
const ROWS = Number(values.rows);

const RECEIVER = `
const http = require('node:http');
let n = 0;
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => { n++; res.writeHead(200).end('ok'); }); });
server.keepAliveTimeout = 10000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));`;

async function startReceiver(): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((done) => child.stdout!.once('data', (d: Buffer) => done(Number(d.toString().trim()))));
  return { port, stop: () => child.kill('SIGKILL') };
}

function row(i: number, now: number): OutboxInput {
  const key = `incident-${i}.c0l1.pager`;
  const message: OutgoingMessage = {
    kind: 'trigger', incidentId: i, dedupKey: `service_down:service/s${i}`, severity: 'critical', subject: `s${i} is down`,
    text: `Service s${i} is down since 12:00 UTC.\n\nAcknowledge: http://127.0.0.1/links/incidents/${i}/acknowledge?sig=x`, links: {},
    idempotencyKey: key, fields: { service: `s${i}`, status: 'triggered' },
  };
  return { idempotencyKey: key, channel: 'pager', incidentId: null, kind: 'trigger', message, createdAt: now, deadlineAt: now + 3_600_000 };
}

async function once(port: number): Promise<{ wallMs: number; cpuMs: number; loopP99Ms: number; loopMaxMs: number; delivered: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-sender-'));
  const store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
  try {
    await store.migrate();
    const now = Date.now();
    await store.alerting.enqueue(Array.from({ length: ROWS }, (_, i) => row(i, now)));
    const channel = createChannel('pager', { webhook: { url: `http://127.0.0.1:${port}/hook`, headers: {} }, rate_limit: 1_000_000 } as never);
    const sender = new OutboxSender({
      store: store.alerting, channels: () => new Map([['pager', channel]]), rateLimits: () => new Map([['pager', 1_000_000]]),
      metrics: registerAlertingMetrics(new Registry()), log: silentLogger(),
    });
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await sender.pass();
    const wallMs = performance.now() - t0;
    const used = process.cpuUsage(cpu);
    loop.disable();
    await channel.close?.();
    const counts = await store.alerting.outboxCounts();
    if (process.env.DEBUG_COUNTS) console.error(counts, (await store.alerting.listOutbox({ limit: 1 }))[0]?.lastError);
    const delivered = counts.find((c) => c.state === 'delivered')?.count ?? 0;
    return { wallMs, cpuMs: (used.user + used.system) / 1000, loopP99Ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6, delivered };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const receiver = await startReceiver();
try {
  console.log(`| rows | delivered | wall | rows/s | CPU | CPU per row | event-loop delay p99 | max |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (let r = 0; r < Number(values.runs); r++) {
    const x = await once(receiver.port);
    console.log(`| ${ROWS} | ${x.delivered} | ${x.wallMs.toFixed(0)} ms | ${(ROWS / (x.wallMs / 1000)).toFixed(0)} | ${x.cpuMs.toFixed(0)} ms | ${(x.cpuMs / ROWS * 1000).toFixed(0)} µs | ${x.loopP99Ms.toFixed(1)} ms | ${x.loopMaxMs.toFixed(1)} ms |`);
  }
} finally {
  receiver.stop();
}

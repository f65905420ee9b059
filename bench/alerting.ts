/**
 * Alerting under a mass outage: N HTTP monitors (services × 4 endpoints over 8
 * zones in 2 regions) all start failing within one minute, against the real
 * daemon (`bulwark up` as a child process, SQLite store) with an alerting
 * section whose one webhook channel points at a receiver in this process.
 *
 *   node --import tsx bench/alerting.ts [--monitors 1000,2500,10000] [--spread 60] [--interval 10]
 *     [--rate-limit 100000] [--alertmanager /usr/bin/prometheus-alertmanager] [--keep] [--profile DIR] [--warmup 600]
 *
 * Prints, per size: incidents opened by rule, notifications queued and
 * received (duplicates by Idempotency-Key), the time from the quorum decision
 * (the probes' state change: `owner.state` for a service, `target.state` for
 * an endpoint, the last target of a zone or region) to the webhook's receipt
 * of the incident's first page (p50/p99/max), and the probes' scheduling lag
 * (`bulwark_probe_schedule_lag_seconds` from /metrics) during the storm.
 *
 * The anchor, Prometheus Alertmanager, waits `group_wait` (default 30 s) before
 * the first notification of a new group by design; that default is the figure
 * compared with. With `--alertmanager BIN` (Debian's prometheus-alertmanager)
 * the largest run's service decisions are also replayed, at the same offsets,
 * into two real Alertmanagers (group_wait 0s and 30s) and their webhook
 * deliveries timed from each alert's POST.
 *
 * The webhook channel's `rate_limit` is raised (default 60 a minute) so that
 * the pipeline, not the limiter, is measured: with the default, N services
 * down take N/60 minutes to page.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStore } from '../src/store/index.js';

const ENDPOINTS_PER_SERVICE = 4;
const ZONES = 8;
const ZONES_PER_REGION = 4;
const FALL = 3;
/** Alertmanager's default group_wait: the earliest its first notification of a new group goes out. */
const ALERTMANAGER_GROUP_WAIT_MS = 30_000;
/** A multiplier coprime with every size used, so `rank` is a permutation of 0..n-1. */
const SPREAD_PRIME = 7919;
const QUIET_MS = 30_000;

const { values } = parseArgs({
  options: {
    monitors: { type: 'string', default: '1000,10000' },
    spread: { type: 'string', default: '60' },
    'rate-limit': { type: 'string', default: '100000' },
    /** Seconds between checks of one endpoint (10 s as in bench/probes.ts; 30 s lightens the probes at 10,000). */
    interval: { type: 'string', default: '10' },
    /** Seconds the warm-up may take before the run is given up (default 120 + 4 intervals; a loaded machine needs more at 10,000). */
    warmup: { type: 'string' },
    keep: { type: 'boolean', default: false },
    /** A directory for the daemon's V8 CPU profile (`--cpu-prof`), written when it exits. */
    profile: { type: 'string' },
    alertmanager: { type: 'string' },
  },
});
const sizes = values.monitors.split(',').map(Number);
const spreadMs = Number(values.spread) * 1000;
const rateLimit = Number(values['rate-limit']);
const INTERVAL_S = Number(values.interval);
const repoRoot = resolve(import.meta.dirname, '..');
/** `--alertmanager /usr/bin/prometheus-alertmanager`: replay the largest run's service decisions into it (group_wait 0s and 30s). */
const alertmanagerBin = values.alertmanager;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

// --- the monitored endpoints: one process, four loopback addresses, a path per service ---

/**
 * Endpoint e of service s is http://127.0.0.(e+1):PORT/s/<s>. Before the storm
 * every endpoint answers 200; after `POST /storm?t0=&spread=&n=` endpoint
 * g = s*4+e answers 503 from t0 + rank(g)/n × spread on, rank being a fixed
 * permutation, so failures are spread evenly and in no service order.
 */
const TARGET_CODE = `
const http = require('node:http');
let t0 = Infinity, spread = 0, n = 1;
const handler = (req, res) => {
  if (req.url.startsWith('/storm?')) {
    const q = new URL(req.url, 'http://x').searchParams;
    t0 = Number(q.get('t0')); spread = Number(q.get('spread')); n = Number(q.get('n'));
    res.end('ok'); return;
  }
  const m = /^\\/s\\/(\\d+)$/.exec(req.url);
  const e = Number(req.socket.localAddress.split('.').pop()) - 1;
  const g = m ? Number(m[1]) * ${ENDPOINTS_PER_SERVICE} + e : -1;
  const failAt = t0 + ((g * ${SPREAD_PRIME} + 13) % n) / n * spread;
  const up = g >= 0 && Date.now() < failAt;
  res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' });
  res.end(up ? '{"status":"pass"}' : '{"status":"fail"}');
};
const port = Number(process.argv[1]);
let listening = 0;
for (let e = 1; e <= ${ENDPOINTS_PER_SERVICE}; e++) {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 1000;
  server.listen(port, '127.0.0.' + e, () => { if (++listening === ${ENDPOINTS_PER_SERVICE}) process.stdout.write('ready\\n'); });
}`;

async function startTargets(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', TARGET_CODE, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((done, fail) => {
    child.stdout?.once('data', () => done());
    child.once('exit', (code) => fail(new Error(`target server exited with ${code}`)));
  });
  return child;
}

// --- the webhook receiver -----------------------------------------------------

interface Receipt {
  at: number;
  key: string;
  kind: string;
  incidentId: number | null;
  dedupKey: string;
}

function startReceiver(receipts: Receipt[]): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { kind: string; incident_id: number | null; dedup_key: string };
        receipts.push({ at, key: String(req.headers['idempotency-key'] ?? ''), kind: body.kind, incidentId: body.incident_id, dedupKey: body.dedup_key });
      } catch {
        // counted as nothing: the daemon never sends a body that is not JSON
      }
      res.writeHead(200).end('ok');
    });
  });
  server.keepAliveTimeout = 10_000;
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done({ server, port: (server.address() as AddressInfo).port })));
}

// --- configuration ---------------------------------------------------------------

const zoneOf = (s: number, e: number) => `z${(s * ENDPOINTS_PER_SERVICE + e) % ZONES}`;
const regionOf = (zone: number) => `r${Math.floor(zone / ZONES_PER_REGION)}`;

function configYaml(services: number, targetPort: number, receiverPort: number): string {
  const zones = Array.from({ length: ZONES }, (_, z) => `  z${z}: { region: ${regionOf(z)} }`).join('\n');
  const regions = Array.from({ length: ZONES / ZONES_PER_REGION }, (_, r) => `  r${r}: {}`).join('\n');
  const svc: string[] = [];
  for (let s = 0; s < services; s++) {
    const endpoints = Array.from({ length: ENDPOINTS_PER_SERVICE }, (_, e) => `      - { url: "http://127.0.0.${e + 1}:${targetPort}", name: e${e}, zone: ${zoneOf(s, e)} }`).join('\n');
    svc.push(`  s${s}:\n    endpoints:\n${endpoints}\n    health_check: { path: /s/${s}, interval: ${INTERVAL_S}s, timeout: 5s, fall: ${FALL}, conditions: ["status == 200"] }`);
  }
  return `probes: { max_concurrent: 4096 }
regions:
${regions}
zones:
${zones}
services:
${svc.join('\n')}
alerting:
  channels:
    pager: { webhook: { url: "http://127.0.0.1:${receiverPort}/hook" }, rate_limit: ${rateLimit} }
  escalation_policies:
    page: [ { notify: pager, after: 0s } ]
  rules:
    service_down: { when: service_down, severity: critical, escalation: page }
    endpoint_down: { when: endpoint_down, severity: warning, escalation: page }
    zone_down: { when: zone_down, severity: critical, escalation: page }
    region_down: { when: region_down, severity: critical, escalation: page }
`;
}

// --- the daemon and its /metrics ---------------------------------------------------

/** The daemon's /metrics; '' when it does not answer within `timeoutMs` (its event loop starved). */
async function metricsText(apiPort: number, timeoutMs = 5000): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${apiPort}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    return await res.text();
  } catch {
    return '';
  }
}

/** Cumulative bucket counts of a histogram without labels, by upper bound. */
function histogram(text: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  const re = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) out.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  return out;
}

/** The upper bound of the bucket the p-th percentile falls in, of the difference of two scrapes. */
function histogramPercentile(before: Map<number, number>, after: Map<number, number>, p: number): { bound: number; count: number } {
  if (after.size === 0 || before.size === 0) return { bound: Number.NaN, count: 0 };
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  for (const b of bounds) {
    if ((after.get(b) ?? 0) - (before.get(b) ?? 0) >= (p / 100) * total) return { bound: b, count: total };
  }
  return { bound: Infinity, count: total };
}

function gaugeCount(text: string, name: string, value: string): number {
  const re = new RegExp(`^${name}\\{[^}]*\\} ${value}$`, 'gm');
  return [...text.matchAll(re)].length;
}

/** Services whose latest "service state changed" line in the daemon's JSON log is to up. */
function servicesUpInLog(file: string): number {
  const state = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"msg":"service state changed"')) continue;
    const entry = JSON.parse(line) as { service: string; to: string };
    state.set(entry.service, entry.to);
  }
  return [...state.values()].filter((to) => to === 'up').length;
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 Hz)
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// --- one run ---------------------------------------------------------------------

interface RunResult {
  monitors: number;
  services: number;
  incidents: Record<string, number>;
  incidentsTotal: number;
  outboxQueued: number;
  outboxDelivered: number;
  outboxPending: number;
  received: number;
  duplicates: number;
  paged: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  firstPageMs: number;
  decisionToOpenP99Ms: number;
  openToReceiptP99Ms: number;
  serviceDecisions: number;
  /** Each service's decision, as an offset from the first one: what the Alertmanager replay sends. */
  decisions: Array<{ service: string; offsetMs: number }>;
  /** Decision → first page of the service_down incidents alone, sorted. */
  serviceLatencies: number[];
  lagP50: number;
  lagP99: number;
  lagChecks: number;
  skipped: number;
  daemonCpu: number;
  peakRssMiB: number;
  stormSeconds: number;
  /** The machine's 1-minute load average at the start and the end of the storm (other work on a shared machine shows here). */
  load: [number, number];
}

async function run(monitors: number, targetPort: number): Promise<RunResult> {
  const services = Math.ceil(monitors / ENDPOINTS_PER_SERVICE);
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-alerting-'));
  // Every endpoint answers again: the previous size's storm is over.
  await fetch(`http://127.0.0.1:${targetPort}/storm?t0=Infinity&spread=0&n=1`, { method: 'POST' });
  const receipts: Receipt[] = [];
  const receiver = await startReceiver(receipts);
  const apiPort = await freePort();
  const configFile = join(dir, 'bulwark.yaml');
  writeFileSync(configFile, configYaml(services, targetPort, receiver.port));
  const log = createWriteStream(join(dir, 'daemon.log'));
  const profile = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile)}`] : [];
  const daemon = spawn(process.execPath, [...profile, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'up', '-c', configFile, '--data-dir', dir,
    '--listen', `127.0.0.1:${apiPort}`, '--no-watch', '--log-format', 'json'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  daemon.stderr?.pipe(log);
  const exited = once(daemon, 'exit');
  let peakRss = 0;
  const rssTimer = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, rssMiB(daemon.pid!));
    } catch {
      // exited
    }
  }, 1000);
  try {
    // Warm-up: every service up (first runs spread over an interval, then `rise` passes).
    const warmMs = values.warmup ? Number(values.warmup) * 1000 : 120_000 + 4 * INTERVAL_S * 1000;
    const warmDeadline = Date.now() + warmMs;
    for (;;) {
      if (Date.now() > warmDeadline) throw new Error(`services not all up after ${warmMs / 1000} s; see ${join(dir, 'daemon.log')}`);
      await sleep(5000);
      // /metrics of 10,000 targets takes seconds to render on a loaded machine.
      const text = await metricsText(apiPort, 30_000);
      // Under a heavy load /metrics may not answer within 30 s: then the daemon's own log says which services are up.
      const up = text === '' ? servicesUpInLog(join(dir, 'daemon.log')) : gaugeCount(text, 'bulwark_service_up', '1');
      process.stderr.write(`\r  warm-up: ${up}/${services} services up   `);
      if (up === services) break;
    }
    process.stderr.write('\n');
    const before = await metricsText(apiPort, 30_000);
    const cpuBefore = cpuTicks(daemon.pid!);
    const loadBefore = loadavg()[0]!;
    const t0 = Date.now() + 1000;
    await fetch(`http://127.0.0.1:${targetPort}/storm?t0=${t0}&spread=${spreadMs}&n=${services * ENDPOINTS_PER_SERVICE}`, { method: 'POST' });
    // The last endpoint fails at t0 + spread; `fall` failed checks an interval apart find it within (fall + 1) intervals.
    const settleAt = t0 + spreadMs + (FALL + 1) * INTERVAL_S * 1000 + 5000;
    for (;;) {
      await sleep(2000);
      const now = Date.now();
      const lastReceipt = receipts.at(-1)?.at ?? 0;
      process.stderr.write(`\r  storm: ${Math.round((now - t0) / 1000)}s, ${receipts.length} notifications received   `);
      // Pages arrive in bursts when the daemon is behind: quiet means 30 s without one.
      if (now > settleAt && now - lastReceipt > QUIET_MS) break;
      if (now > settleAt + 300_000) break;
    }
    process.stderr.write('\n');
    const stormEnd = Date.now();
    const after = await metricsText(apiPort, 60_000);
    if (after === '') process.stderr.write('  the daemon did not answer /metrics within 60 s: no scheduling lag for this run\n');
    const cpuAfter = cpuTicks(daemon.pid!);
    const lagBefore = histogram(before, 'bulwark_probe_schedule_lag_seconds');
    const lagAfter = histogram(after, 'bulwark_probe_schedule_lag_seconds');
    const skippedOf = (t: string) => Number(/^bulwark_probe_skipped_total (\S+)$/m.exec(t)?.[1] ?? 0);
    daemon.kill('SIGTERM');
    // A daemon whose event loop is starved does not get to its signal handler: the store is consistent either way (WAL).
    const killer = setTimeout(() => daemon.kill('SIGKILL'), values.profile ? 300_000 : 20_000);
    await exited;
    clearTimeout(killer);
    clearInterval(rssTimer);
    return {
      ...(await analyse(dir, monitors, services, t0, receipts)),
      lagP50: histogramPercentile(lagBefore, lagAfter, 50).bound,
      lagP99: histogramPercentile(lagBefore, lagAfter, 99).bound,
      lagChecks: histogramPercentile(lagBefore, lagAfter, 99).count,
      skipped: skippedOf(after) - skippedOf(before),
      daemonCpu: (cpuAfter - cpuBefore) / 100 / ((stormEnd - t0) / 1000),
      peakRssMiB: peakRss,
      stormSeconds: (stormEnd - t0) / 1000,
      load: [loadBefore, loadavg()[0]!],
    };
  } finally {
    clearInterval(rssTimer);
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
    receiver.server.close();
    receiver.server.closeAllConnections();
    if (values.keep) process.stderr.write(`  kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

type Analysis = Omit<RunResult, 'lagP50' | 'lagP99' | 'lagChecks' | 'skipped' | 'daemonCpu' | 'peakRssMiB' | 'stormSeconds' | 'load'>;

async function analyse(dir: string, monitors: number, services: number, t0: number, receipts: Receipt[]): Promise<Analysis> {
  const store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
  try {
    const since = t0 - 1000;
    const downAt = new Map<string, number>();
    for (const kind of ['service', 'target'] as const) {
      for (const c of await store.stateChanges({ subjectKind: kind, since })) {
        if (c.to === 'down' && c.at >= since && !downAt.has(`${kind}/${c.subject}`)) downAt.set(`${kind}/${c.subject}`, c.at);
      }
    }
    // A zone (region) is decided down when its last target is.
    const areaDown = new Map<string, number>();
    for (let s = 0; s < services; s++) {
      for (let e = 0; e < ENDPOINTS_PER_SERVICE; e++) {
        const at = downAt.get(`target/service/s${s}/e${e}`);
        const zone = zoneOf(s, e);
        for (const area of [`zone/${zone}`, `region/${regionOf(Number(zone.slice(1)))}`]) {
          // Infinity while any target of the area never went down: the area was never decided down.
          areaDown.set(area, at === undefined ? Infinity : Math.max(areaDown.get(area) ?? 0, at));
        }
      }
    }
    const decisionOf = (subject: string): number | undefined => {
      if (subject.startsWith('service/')) return downAt.get(subject);
      if (subject.startsWith('endpoint/')) return downAt.get(`target/${subject.slice('endpoint/'.length)}`);
      const at = areaDown.get(subject);
      return at === undefined || !Number.isFinite(at) ? undefined : at;
    };
    // listIncidents is capped (1,000): every open one, plus the few resolved or acknowledged.
    const incidents = [...await store.alerting.openIncidents(), ...await store.alerting.listIncidents({ states: ['acknowledged', 'resolved'], limit: 1000 })];
    const byRule: Record<string, number> = {};
    const firstReceipt = new Map<number, number>();
    for (const r of receipts) {
      if (r.kind === 'trigger' && r.incidentId !== null && !firstReceipt.has(r.incidentId)) firstReceipt.set(r.incidentId, r.at);
    }
    const latencies: number[] = [];
    const serviceLatencies: number[] = [];
    const toOpen: number[] = [];
    const openToReceipt: number[] = [];
    for (const incident of incidents) {
      byRule[incident.rule] = (byRule[incident.rule] ?? 0) + 1;
      const opened = (await store.alerting.incidentEvents(incident.id)).find((e) => e.kind === 'opened');
      const subject = (opened?.data as { subject?: string } | undefined)?.subject ?? '';
      const decided = decisionOf(subject);
      const received = firstReceipt.get(incident.id);
      if (decided !== undefined) toOpen.push(incident.openedAt - decided);
      if (received !== undefined) openToReceipt.push(received - incident.openedAt);
      if (decided !== undefined && received !== undefined) latencies.push(received - decided);
      if (decided !== undefined && received !== undefined && subject.startsWith('service/')) serviceLatencies.push(received - decided);
    }
    const outbox = (await Promise.all(incidents.map((i) => store.alerting.listOutbox({ incidentId: i.id, limit: 1000 })))).flat();
    const keys = new Map<string, number>();
    for (const r of receipts) keys.set(r.key, (keys.get(r.key) ?? 0) + 1);
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const lat = sorted(latencies);
    return {
      monitors,
      services,
      incidents: byRule,
      incidentsTotal: incidents.length,
      outboxQueued: outbox.length,
      outboxDelivered: outbox.filter((o) => o.state === 'delivered').length,
      outboxPending: outbox.filter((o) => o.state === 'pending' || o.state === 'sending').length,
      received: receipts.length,
      duplicates: [...keys.values()].reduce((sum, n) => sum + n - 1, 0),
      paged: firstReceipt.size,
      latencyP50Ms: percentile(lat, 50),
      latencyP99Ms: percentile(lat, 99),
      latencyMaxMs: lat.at(-1) ?? Number.NaN,
      firstPageMs: Math.min(...[...firstReceipt.values()]) - Math.min(...[...downAt.values()]),
      decisionToOpenP99Ms: percentile(sorted(toOpen), 99),
      openToReceiptP99Ms: percentile(sorted(openToReceipt), 99),
      serviceDecisions: [...downAt.keys()].filter((k) => k.startsWith('service/')).length,
      decisions: serviceDecisionOffsets(downAt),
      serviceLatencies: sorted(serviceLatencies),
    };
  } finally {
    await store.close();
  }
}

function serviceDecisionOffsets(downAt: ReadonlyMap<string, number>): Array<{ service: string; offsetMs: number }> {
  const services = [...downAt].filter(([k]) => k.startsWith('service/'));
  const first = Math.min(...services.map(([, at]) => at));
  return services.map(([k, at]) => ({ service: k.slice('service/'.length), offsetMs: at - first })).sort((a, b) => a.offsetMs - b.offsetMs);
}

// --- the anchor: Prometheus Alertmanager, fed the same decisions ---------------------------

interface AlertmanagerResult {
  groupWait: string;
  alerts: number;
  notifications: number;
  paged: number;
  p50: number;
  p99: number;
  max: number;
  first: number;
}

/**
 * Starts one Alertmanager per group_wait (no cluster, group_by alertname and
 * service: one group per service, as Bulwark has one incident per service),
 * posts each service's alert at the moment Bulwark decided it down (same
 * offsets), and times its webhook's receipt from the post.
 */
async function alertmanagerAnchor(bin: string, decisions: ReadonlyArray<{ service: string; offsetMs: number }>, groupWaits: readonly string[]): Promise<AlertmanagerResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-am-'));
  const instances: Array<{ groupWait: string; port: number; child: ChildProcess; firstReceipt: Map<string, number>; notifications: number; server: Server }> = [];
  try {
    for (const groupWait of groupWaits) {
      const firstReceipt = new Map<string, number>();
      const entry = { groupWait, port: await freePort(), child: undefined as unknown as ChildProcess, firstReceipt, notifications: 0, server: undefined as unknown as Server };
      entry.server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const at = Date.now();
          entry.notifications++;
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts: Array<{ status: string; labels: Record<string, string> }> };
          for (const a of body.alerts) {
            const service = a.labels.service;
            if (a.status === 'firing' && service !== undefined && !firstReceipt.has(service)) firstReceipt.set(service, at);
          }
          res.writeHead(200).end('ok');
        });
      });
      entry.server.keepAliveTimeout = 10_000;
      await new Promise<void>((done) => entry.server.listen(0, '127.0.0.1', () => done()));
      const hookPort = (entry.server.address() as AddressInfo).port;
      const configFile = join(dir, `am-${groupWait}.yml`);
      writeFileSync(configFile, `route:
  receiver: hook
  group_by: [alertname, service]
  group_wait: ${groupWait}
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: hook
    webhook_configs: [ { url: "http://127.0.0.1:${hookPort}/hook", send_resolved: false } ]
`);
      entry.child = spawn(bin, [`--config.file=${configFile}`, `--storage.path=${join(dir, `data-${groupWait}`)}`, `--web.listen-address=127.0.0.1:${entry.port}`,
        '--cluster.listen-address=', '--log.level=warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
      instances.push(entry);
    }
    for (const i of instances) {
      for (let tries = 0; ; tries++) {
        const ok = await fetch(`http://127.0.0.1:${i.port}/-/ready`).then((r) => r.ok, () => false);
        if (ok) break;
        if (tries > 100) throw new Error('alertmanager did not become ready');
        await sleep(100);
      }
    }
    const postedAt = new Map<string, number>();
    const start = Date.now() + 500;
    let next = 0;
    while (next < decisions.length) {
      const wait = start + decisions[next]!.offsetMs - Date.now();
      if (wait > 0) await sleep(wait);
      const now = Date.now();
      const due: string[] = [];
      while (next < decisions.length && start + decisions[next]!.offsetMs <= now) due.push(decisions[next++]!.service);
      const body = JSON.stringify(due.map((service) => ({ labels: { alertname: 'ServiceDown', service, severity: 'critical' }, startsAt: new Date(now).toISOString() })));
      for (const service of due) postedAt.set(service, now);
      await Promise.all(instances.map((i) => fetch(`http://127.0.0.1:${i.port}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })));
      process.stderr.write(`\r  alertmanager replay: ${next}/${decisions.length} alerts posted   `);
    }
    process.stderr.write('\n');
    const longest = Math.max(...groupWaits.map((g) => Number(/^(\d+)s$/.exec(g)?.[1] ?? 0)));
    const quietSince = () => Math.max(...instances.map((i) => Math.max(0, ...i.firstReceipt.values())));
    const settle = Date.now() + longest * 1000 + 5000;
    while (Date.now() < settle || Date.now() - quietSince() < 5000) {
      if (Date.now() > settle + 120_000) break;
      await sleep(1000);
    }
    return instances.map((i) => {
      const lat = [...i.firstReceipt].map(([service, at]) => at - postedAt.get(service)!).sort((a, b) => a - b);
      return { groupWait: i.groupWait, alerts: decisions.length, notifications: i.notifications, paged: i.firstReceipt.size, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat.at(-1) ?? Number.NaN, first: lat[0] ?? Number.NaN };
    });
  } finally {
    for (const i of instances) {
      i.child?.kill('SIGKILL');
      i.server?.close();
      i.server?.closeAllConnections();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- main ---------------------------------------------------------------------------

async function main() {
  const targetPort = await freePort();
  const targets = await startTargets(targetPort);
  const rows: RunResult[] = [];
  try {
    for (const monitors of sizes) {
      process.stderr.write(`running ${monitors} monitors (${Math.ceil(monitors / ENDPOINTS_PER_SERVICE)} services × ${ENDPOINTS_PER_SERVICE}), all failing over ${spreadMs / 1000} s...\n`);
      try {
        const row = await run(monitors, targetPort);
        rows.push(row);
        const { decisions: _d, serviceLatencies: _l, ...summary } = row;
        process.stderr.write(`  ${JSON.stringify(summary)}\n`);
      } catch (err) {
        // One size that does not run (the machine too loaded to warm up) does not lose the others.
        process.stderr.write(`  ${monitors} monitors: ${(err as Error).message}\n`);
      }
    }
  } finally {
    targets.kill('SIGKILL');
  }
  const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const ms = (n: number) => (Number.isFinite(n) ? `${fmt(n)} ms` : '-');
  const sec = (n: number) => (Number.isNaN(n) ? '-' : Number.isFinite(n) ? `≤ ${n < 1 ? `${n * 1000} ms` : `${n} s`}` : '> 5 s');
  console.log(`\nBulwark alerting: every monitor (checked every ${INTERVAL_S} s, down after ${FALL} failures) fails within ${spreadMs / 1000} s; daemon as a child process, SQLite store, one webhook channel (rate_limit ${rateLimit}/min)`);
  const header = ['monitors', 'services down', 'incidents (by rule)', 'pages received (dups)', 'decision→page p50', 'p99', 'max', 'first page', 'probe lag p50', 'p99', 'daemon CPU', 'peak RSS', 'load avg'];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const byRule = Object.entries(r.incidents).sort().map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(`| ${[
      r.monitors, `${r.serviceDecisions}/${r.services}`, `${r.incidentsTotal} (${byRule})`, `${r.received} (${r.duplicates})`,
      ms(r.latencyP50Ms), ms(r.latencyP99Ms), ms(r.latencyMaxMs), ms(r.firstPageMs), sec(r.lagP50), sec(r.lagP99),
      `${fmt(r.daemonCpu * 100)}%`, `${fmt(r.peakRssMiB)} MiB`, `${fmt(r.load[0], 1)} → ${fmt(r.load[1], 1)}`,
    ].join(' | ')} |`);
  }
  console.log('\nWhere the time goes (p99): decision → incident opened, incident opened → webhook receipt; outbox at the end');
  for (const r of rows) {
    console.log(`  ${r.monitors}: ${ms(r.decisionToOpenP99Ms)} + ${ms(r.openToReceiptP99Ms)}; outbox ${r.outboxQueued} queued, ${r.outboxDelivered} delivered, ${r.outboxPending} still pending; ${r.lagChecks} checks in the storm, ${r.skipped} skipped`);
  }
  console.log(`\nAgainst Alertmanager's default group_wait (${ALERTMANAGER_GROUP_WAIT_MS / 1000} s, its designed minimum delay before a new group's first notification):`);
  for (const r of rows) {
    console.log(`  ${r.monitors}: first page ${ms(r.firstPageMs)} after the first decision (${fmt(ALERTMANAGER_GROUP_WAIT_MS / r.firstPageMs)}× sooner); p99 of every incident's first page ${ms(r.latencyP99Ms)} (${fmt(ALERTMANAGER_GROUP_WAIT_MS / r.latencyP99Ms, 1)}× sooner)`);
  }
  const largest = rows.at(-1);
  let anchor: AlertmanagerResult[] = [];
  if (alertmanagerBin && largest) {
    process.stderr.write(`replaying the ${largest.decisions.length} service decisions of the ${largest.monitors}-monitor run into Alertmanager (group_wait 0s and 30s)...\n`);
    anchor = await alertmanagerAnchor(alertmanagerBin, largest.decisions, ['0s', '30s']);
    const lat = largest.serviceLatencies;
    console.log(`\nThe same ${largest.decisions.length} service-down decisions (${largest.monitors}-monitor run), time to the webhook's receipt of each service's first notification:`);
    console.log('| system | notifications | services paged | first | p50 | p99 | max |');
    console.log('|---|---|---|---|---|---|---|');
    console.log(`| Bulwark (from the probes' decision) | ${largest.serviceDecisions} service_down pages | ${lat.length} | ${ms(lat[0] ?? Number.NaN)} | ${ms(percentile(lat, 50))} | ${ms(percentile(lat, 99))} | ${ms(lat.at(-1) ?? Number.NaN)} |`);
    for (const a of anchor) {
      console.log(`| Alertmanager 0.25, group_wait ${a.groupWait} (from the alert's POST) | ${a.notifications} | ${a.paged} | ${ms(a.first)} | ${ms(a.p50)} | ${ms(a.p99)} | ${ms(a.max)} |`);
    }
  }
  console.log(JSON.stringify({ runs: rows.map(({ decisions: _d, serviceLatencies: _l, ...r }) => r), alertmanager: anchor }));
}

await main();

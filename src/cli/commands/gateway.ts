import type { Command } from 'commander';
import { parseDuration } from '../../config/index.js';
import { BulwarkError } from '../../core/errors.js';
import type { EndpointSnapshot, PoolSnapshot } from '../../gateway/index.js';
import { getJson, resolveApi, sendJson, type ApiTarget } from '../api-client.js';
import { sleep } from '../../core/time.js';
import { EXIT } from '../exit-codes.js';
import { print, printError, printJSON } from '../output.js';

interface ApiOptions {
  url?: string;
  token?: string;
  config?: string;
  json?: boolean;
}

type Pool = PoolSnapshot & { listen?: string };
interface EndpointAnswer { service: string; level: string; endpoint: EndpointSnapshot }

const EXIT_HELP = '\nExit codes: 0 done, 1 the daemon refused the operation (unknown service or endpoint, bad value) or a wait timed out, 2 the daemon cannot be reached or the token is refused.';
const POLL_MS = 250;

export function registerGateway(program: Command): void {
  const gateway = program
    .command('gateway')
    .description('the live gateway pools: show them, drain, disable or enable an endpoint, change its weight, release a held failover');

  withApiOptions(gateway.command('pools').description('every service with a gateway: its level and one line per endpoint'))
    .action(async (options: ApiOptions) => {
      const api = await resolveApi(options);
      const answer = await getJson<{ services: Record<string, Pool> }>(api, '/api/v1/gateway');
      if (options.json) printJSON(answer);
      else print(Object.keys(answer.services).length === 0 ? 'no service has a gateway (give a service `listen: HOST:PORT`)' : renderPools(answer.services));
    });

  withApiOptions(gateway.command('drain').argument('<service>').argument('<endpoint>')
    .description('stop sending new requests to an endpoint; requests in flight finish')
    .option('--wait', 'wait until no request is in flight on the endpoint')
    .option('--timeout <duration>', 'how long --wait waits', '60s'))
    .action(async (service: string, endpoint: string, options: ApiOptions & { wait?: boolean; timeout: string }) => {
      const timeoutMs = durationOption(options.timeout);
      const api = await resolveApi(options);
      const answer = await sendJson<EndpointAnswer>(api, 'POST', endpointPath(service, endpoint, 'drain'));
      report(answer, options.json);
      if (options.wait) process.exitCode = await waitDrained(api, service, endpoint, answer.endpoint.active, timeoutMs, options.json);
    });

  for (const [action, description] of [
    ['disable', 'take an endpoint out of rotation entirely'],
    ['enable', 'put a drained or disabled endpoint back into rotation'],
  ] as const) {
    withApiOptions(gateway.command(action).argument('<service>').argument('<endpoint>').description(description))
      .action(async (service: string, endpoint: string, options: ApiOptions) => {
        const api = await resolveApi(options);
        report(await sendJson<EndpointAnswer>(api, 'POST', endpointPath(service, endpoint, action)), options.json);
      });
  }

  withApiOptions(gateway.command('weight').argument('<service>').argument('<endpoint>').argument('<weight>', 'a whole number from 0 to 1000 (0: no new traffic)')
    .description('change an endpoint\'s weight until the next change of its weight in the configuration'))
    .action(async (service: string, endpoint: string, raw: string, options: ApiOptions) => {
      if (!/^-?\d+$/.test(raw)) throw new BulwarkError('USAGE', `weight must be a whole number from 0 to 1000, got "${raw}"`);
      const api = await resolveApi(options);
      report(await sendJson<EndpointAnswer>(api, 'PUT', endpointPath(service, endpoint, 'weight'), { weight: Number(raw) }), options.json);
    });

  withApiOptions(gateway.command('reset-failover').argument('<service>')
    .description('with `failback: false`: release the held level so traffic follows health again'))
    .action(async (service: string, options: ApiOptions) => {
      const api = await resolveApi(options);
      const answer = await sendJson<Pool & { service: string }>(api, 'POST', `/api/v1/gateway/${encodeURIComponent(service)}/reset-failover`);
      if (options.json) printJSON(answer);
      else print(renderPools({ [service]: answer }));
    });
}

function withApiOptions(command: Command): Command {
  return command
    .option('--url <url>', 'API of the running daemon (default: $BULWARK_URL, api.listen of -c, or http://127.0.0.1:9180)')
    .option('--token <token>', 'API token (default: $BULWARK_TOKEN)')
    .option('-c, --config <file>', 'configuration file, to find api.listen')
    .option('--json', 'print the answer as JSON')
    .addHelpText('after', EXIT_HELP);
}

function endpointPath(service: string, endpoint: string, action: string): string {
  return `/api/v1/gateway/${encodeURIComponent(service)}/endpoints/${encodeURIComponent(endpoint)}/${action}`;
}

function durationOption(raw: string): number {
  const parsed = parseDuration(raw);
  if (!parsed.ok) throw new BulwarkError('USAGE', `--timeout: expected a duration such as 30s, 2m or 500ms, got "${raw}"`);
  return parsed.value;
}

function report(answer: EndpointAnswer, json: boolean | undefined): void {
  if (json) printJSON(answer);
  else print(`${answer.service}/${answer.endpoint.id}: ${answer.endpoint.admin}, weight ${answer.endpoint.weight}, ${answer.endpoint.active} in flight, ${answer.endpoint.serving ? 'serving' : 'not serving'}; pool level ${answer.level}`);
}

/** Poll the pool until the endpoint has nothing in flight; exit 1 on timeout or when someone else changed its state. */
async function waitDrained(api: ApiTarget, service: string, id: string, active: number, timeoutMs: number, json: boolean | undefined): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  if (active > 0 && !json) printError(`waiting for ${active} in-flight request(s) on ${service}/${id} to finish (timeout ${Math.round(timeoutMs / 1000)}s)`);
  for (;;) {
    if (active === 0) {
      if (!json) print(`${service}/${id} drained: nothing in flight`);
      return EXIT.ok;
    }
    if (Date.now() >= deadline) {
      printError(`error: ${service}/${id} still has ${active} request(s) in flight after ${Math.round(timeoutMs / 1000)}s; it stays draining`);
      return EXIT.findings;
    }
    await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
    const pool = await getJson<Pool>(api, `/api/v1/gateway/${encodeURIComponent(service)}`);
    const endpoint = pool.endpoints.find((e) => e.id === id);
    if (!endpoint) throw new BulwarkError('NOT_FOUND', `${service}/${id} left the pool while draining (configuration reload?)`);
    if (endpoint.admin === 'enabled') {
      printError(`error: ${service}/${id} was enabled again while waiting for it to drain`);
      return EXIT.findings;
    }
    active = endpoint.active;
  }
}

const TIER = { 1: 'primary', 2: 'secondary', 3: 'backup' } as const;

export function renderPools(services: Record<string, Pool>): string {
  const lines: string[] = [];
  for (const [name, pool] of Object.entries(services)) {
    if (lines.length > 0) lines.push('');
    const held = pool.heldLevel ? ` (held at ${pool.heldLevel}; bulwark gateway reset-failover ${name})` : '';
    lines.push(`${name}${pool.listen ? ` on ${pool.listen}` : ''}: level ${pool.level}${held}, ${pool.algorithm}`);
    const rows = [['ENDPOINT', 'ZONE', 'TIER', 'HEALTH', 'ADMIN', 'WEIGHT', 'ACTIVE', 'SERVING']];
    for (const e of pool.endpoints) {
      rows.push([e.id, e.zone ?? '-', TIER[e.tier], e.ejected ? `${e.health} (ejected)` : e.health, e.admin, String(e.weight), String(e.active), e.serving ? 'yes' : 'no']);
    }
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    lines.push(...rows.map((r) => `  ${r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd()));
  }
  return lines.join('\n');
}

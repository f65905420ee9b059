import type { ServiceConfig } from '../../config/index.js';
import { endpointName } from '../../core/names.js';
import { stickyCookieName } from '../pool/index.js';
import { DEFAULT_RETRIES } from '../resilience/index.js';
import { tierOf } from '../pool/tiers.js';

/** Bulwark's retry conditions as HAProxy's `retry-on` keywords. */
const RETRY_ON: Record<string, readonly string[]> = {
  'connect-failure': ['conn-failure'],
  reset: ['empty-response', 'junk-response'],
  '5xx': ['500', '502', '503', '504'],
  'gateway-error': ['502', '503', '504'],
  'refused-stream': ['conn-failure'],
};

const HAPROXY_MAX_WEIGHT = 256;
const BULWARK_MAX_WEIGHT = 1000;

/** The live state of a service's servers when the configuration is rendered again, so a reloaded HAProxy starts where the old one was. */
export interface ServerState {
  /** Bulwark's weight, 0–1000 (0 while draining). */
  weight: number;
  /** Down by the quorum, or disabled by an operator. */
  maint: boolean;
}
/** service → endpoint id → state. */
export type ServerStates = ReadonlyMap<string, ReadonlyMap<string, ServerState>>;

/** HAProxy weights run 0–256, Bulwark's 0–1000: scaled, keeping any weight above 0 above 0. */
export function haproxyWeight(weight: number): number {
  if (weight <= 0) return 0;
  return Math.max(1, Math.round((weight * HAPROXY_MAX_WEIGHT) / BULWARK_MAX_WEIGHT));
}

/** `host:port` of an endpoint URL (http://, https://, tcp:// or bare host:port), with the scheme's port when none is written. */
export function endpointAddress(url: string): { address: string; tls: boolean } {
  const parsed = new URL(url.includes('://') ? url : `tcp://${url}`);
  const tls = parsed.protocol === 'https:';
  const port = parsed.port || (tls ? '443' : '80');
  return { address: `${parsed.hostname}:${port}`, tls };
}

const ms = (value: number): string => `${Math.max(1, Math.round(value))}ms`;

function balance(service: ServiceConfig): string {
  switch (service.load_balancing?.algorithm) {
    case 'least_connections': return 'leastconn';
    case 'power_of_two_choices': return 'random(2)';
    default: return 'roundrobin';
  }
}

function retryLines(service: ServiceConfig): string[] {
  const retries = service.retries ?? DEFAULT_RETRIES;
  const attempts = retries.attempts;
  if (attempts === 0) return ['retries 0'];
  const on = [...new Set(retries.retry_on.flatMap((r) => RETRY_ON[r] ?? []))];
  // `redispatch 1`: every retry goes to another server, as the built-in engine's retries do.
  const lines = [`retries ${attempts}`, 'option redispatch 1'];
  if (service.protocol !== 'tcp') lines.push(`retry-on ${on.join(' ')}`);
  return lines;
}

function healthCheckLines(service: ServiceConfig): string[] {
  const check = service.health_check;
  if (service.protocol === 'tcp' || check?.type === 'tcp' || check?.type === 'command') return [];
  return [`option httpchk ${check?.method ?? 'GET'} ${check?.path ?? '/health'}`, 'http-check expect status 200-399'];
}

/** What every server of the backend shares: check timing, outlier mapping, session shutdown, concurrency. */
function defaultServer(service: ServiceConfig): string {
  const check = service.health_check;
  // An endpoint whose name does not resolve yet starts down instead of stopping HAProxy from starting.
  const parts = ['default-server', 'init-addr libc,none', `inter ${ms(check?.interval ?? 10_000)}`, `fall ${check?.fall ?? 3}`, `rise ${check?.rise ?? 2}`];
  const outlier = service.outlier_detection;
  if (outlier && service.protocol !== 'tcp') parts.push('observe layer7', `error-limit ${outlier.consecutive_gateway_errors ?? outlier.consecutive_errors}`, 'on-error mark-down');
  if (service.protocol === 'tcp' && service.on_marked_down === 'shutdown-sessions') parts.push('on-marked-down shutdown-sessions');
  if (service.limits?.max_connections !== undefined) parts.push(`maxconn ${service.limits.max_connections}`);
  if (service.limits?.max_pending_requests !== undefined) parts.push(`maxqueue ${service.limits.max_pending_requests}`);
  return parts.join(' ');
}

function upstreamTls(service: ServiceConfig, host: string): string[] {
  const tls = service.upstream_tls;
  if (tls?.verify === false) return ['ssl', 'verify none'];
  const ca = tls?.ca ?? '@system-ca';
  const name = tls?.servername ?? host;
  return ['ssl', 'verify required', `ca-file ${ca}`, `sni str(${name})`, `verifyhost ${name}`];
}

function serverLines(service: ServiceConfig, states: ReadonlyMap<string, ServerState> | undefined): string[] {
  const sticky = stickyCookieName(service) !== undefined && service.protocol !== 'tcp';
  const checked = service.health_check?.type !== 'command';
  return service.endpoints.map((endpoint, index) => {
    const id = endpointName(endpoint, index);
    const { address, tls } = endpointAddress(endpoint.url);
    const state = states?.get(id);
    const parts = ['server', id, address, `weight ${haproxyWeight(state?.weight ?? endpoint.weight)}`];
    if (state?.maint) parts.push('disabled');
    if (checked) parts.push('check');
    if (tierOf({ backup: endpoint.backup, zone: endpoint.zone }, service.failover?.primary_zones) !== 1) parts.push('backup');
    if (sticky) parts.push(`cookie ${id}`);
    if (tls) parts.push(...upstreamTls(service, address.slice(0, address.lastIndexOf(':'))));
    return parts.join(' ');
  });
}

/** The backend of one service: its endpoints as servers, zone priority as `backup`, retries, checks and timeouts. */
export function renderBackend(name: string, service: ServiceConfig, states?: ReadonlyMap<string, ServerState>): string[] {
  const cookie = stickyCookieName(service);
  const lines = [
    `mode ${service.protocol === 'tcp' ? 'tcp' : 'http'}`,
    `balance ${balance(service)}`,
    ...retryLines(service),
    `timeout connect ${ms(service.connect_timeout ?? 2_000)}`,
    `timeout server ${ms(service.retries?.per_try_timeout ?? service.timeout ?? 30_000)}`,
    'timeout queue 3s',
    ...healthCheckLines(service),
    ...(cookie !== undefined && service.protocol !== 'tcp' ? [`cookie ${cookie} insert indirect nocache httponly`] : []),
    // Bulwark's own backup tier: with several backup servers, all take traffic (as the built-in tier 3 does).
    'option allbackups',
    defaultServer(service),
    ...serverLines(service, states),
  ];
  return [`backend ${backendName(name)}`, ...lines.map((l) => `    ${l}`)];
}

export const backendName = (service: string): string => `be_${service}`;
export const frontendName = (service: string): string => `fe_${service}`;

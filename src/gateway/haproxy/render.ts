import type { ServiceConfig } from '../../config/index.js';
import { splitListen } from '../../core/net.js';
import { hstsHeader } from '../tls/server-options.js';
import { backendName, frontendName, renderBackend, type ServerStates } from './render-backend.js';

/** Where the rendered configuration points HAProxy at files the supervisor writes. */
export interface RenderPaths {
  /** The stats socket (runtime API, level admin). */
  statsSocket: string;
  /** The crt-list of a service with `tls` (its certificates as combined PEM files, written by the supervisor). */
  crtList(service: string): string;
  /** `gateway.haproxy.threads`: HAProxy's nbthread, else its own default. */
  threads?: number | undefined;
}

const ms = (value: number): string => `${Math.max(1, Math.round(value))}ms`;

/** HAProxy binds `*:port` for all interfaces; IPv6 addresses go bare before the port. */
function bindAddress(listen: string): string {
  const { host, port } = splitListen(listen);
  return `${host === '0.0.0.0' ? '' : host}:${port}`;
}

function rateLimitLines(service: ServiceConfig): string[] {
  const limit = service.rate_limit;
  if (!limit) return [];
  const header = limit.key.startsWith('header:') ? limit.key.slice('header:'.length) : undefined;
  const table = `stick-table type ${header ? 'string len 128' : 'ip'} size 100k expire 60s store http_req_rate(1s)`;
  const track = `http-request track-sc0 ${header ? `req.hdr(${header})` : 'src'}`;
  const deny = `http-request deny deny_status 429 if { sc_http_req_rate(0) gt ${Math.max(1, Math.ceil(limit.requests_per_second))} }`;
  return [table, track, deny];
}

function tlsBind(name: string, service: ServiceConfig, paths: RenderPaths): string {
  const tls = service.tls;
  if (!tls) return '';
  return ` ssl crt-list ${paths.crtList(name)} ssl-min-ver ${tls.min_version}`;
}

function httpFrontendLines(service: ServiceConfig): string[] {
  if (service.protocol === 'tcp') return [];
  const lines = [
    `timeout http-request ${ms(service.limits?.header_read_timeout ?? 10_000)}`,
    'timeout http-keep-alive 60s',
    'option forwardfor',
    ...rateLimitLines(service),
  ];
  const body = service.limits?.max_request_body_size;
  if (body !== undefined) lines.push(`http-request deny deny_status 413 if { req.hdr_val(content-length) gt ${body} }`);
  const hsts = service.tls ? hstsHeader(service.tls.hsts) : undefined;
  if (hsts !== undefined) lines.push(`http-response set-header Strict-Transport-Security "${hsts}"`);
  return lines;
}

function renderFrontend(name: string, service: ServiceConfig, paths: RenderPaths): string[] {
  const lines = [
    `mode ${service.protocol === 'tcp' ? 'tcp' : 'http'}`,
    `bind ${bindAddress(String(service.listen))}${tlsBind(name, service, paths)}`,
    'timeout client 60s',
    ...httpFrontendLines(service),
    `default_backend ${backendName(name)}`,
  ];
  return [`frontend ${frontendName(name)}`, ...lines.map((l) => `    ${l}`)];
}

/** The plain-HTTP listener of `tls.redirect_http`: 308 to https:// on the service's own port. */
function renderRedirect(name: string, service: ServiceConfig): string[] {
  const redirect = service.tls?.redirect_http;
  if (redirect === undefined) return [];
  const { port } = splitListen(String(service.listen));
  const target = `https://%[req.hdr(host),field(1,:)]${port === 443 ? '' : `:${port}`}%[capture.req.uri]`;
  return [
    `frontend ${frontendName(name)}_redirect`,
    '    mode http',
    `    bind ${bindAddress(redirect)}`,
    '    timeout client 10s',
    `    http-request redirect location ${target} code 308`,
  ];
}

function globalSection(paths: RenderPaths): string[] {
  return [
    'global',
    ...(paths.threads ? [`    nbthread ${paths.threads}`] : []),
    `    stats socket ${paths.statsSocket} mode 600 level admin expose-fd listeners`,
    '    stats timeout 2m',
    // An old worker still serving long connections after a reload is stopped after this long.
    '    hard-stop-after 30s',
    '',
    'defaults',
    '    timeout connect 2s',
    '    timeout client 60s',
    '    timeout server 30s',
    '    option dontlognull',
    '',
  ];
}

/** haproxy.cfg for the services the HAProxy engine serves (each has `listen`), from the same definitions the built-in engine reads. */
export function renderHaproxyConfig(services: ReadonlyArray<readonly [string, ServiceConfig]>, paths: RenderPaths, states?: ServerStates): string {
  const sections = services.flatMap(([name, service]) => [
    ...renderFrontend(name, service, paths), '',
    ...renderRedirect(name, service), ...(service.tls?.redirect_http ? [''] : []),
    ...renderBackend(name, service, states?.get(name)), '',
  ]);
  return [`# Rendered by bulwark from bulwark.yaml; edits are overwritten.`, ...globalSection(paths), ...sections].join('\n');
}

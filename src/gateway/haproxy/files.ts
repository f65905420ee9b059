import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ServiceConfig } from '../../config/index.js';
import { BulwarkError } from '../../core/errors.js';
import { renderHaproxyConfig, type RenderPaths } from './render.js';
import type { ServerStates } from './render-backend.js';

/** The files of one HAProxy instance under its directory. */
export interface HaproxyFiles extends RenderPaths {
  dir: string;
  config: string;
  masterSocket: string;
}

export function haproxyFiles(dir: string, threads?: number): HaproxyFiles {
  return {
    dir,
    threads,
    config: join(dir, 'haproxy.cfg'),
    masterSocket: join(dir, 'master.sock'),
    statsSocket: join(dir, 'stats.sock'),
    crtList: (service) => join(dir, 'certs', `${service}.crt-list`),
  };
}

export function findHaproxy(bin: string | undefined): string {
  if (bin !== undefined) {
    if (!existsSync(bin)) throw new BulwarkError('USAGE', `gateway.haproxy.bin: ${bin} does not exist`, { hint: 'point it at the haproxy binary, or remove it to use /usr/sbin/haproxy' });
    return bin;
  }
  const found = ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy', '/usr/local/bin/haproxy'].find((p) => existsSync(p));
  if (!found) throw new BulwarkError('USAGE', 'a service has engine: haproxy, but HAProxy is not installed on this host', { hint: 'apt-get install haproxy (Debian/Ubuntu, 2.6 or later), set gateway.haproxy.bin, or use engine: builtin' });
  return found;
}

/** Written beside and renamed over, so HAProxy never reads half a file. */
async function writeAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode });
  await rename(temp, path);
}

/**
 * HAProxy wants a certificate and its key in one PEM file: each pair is joined
 * (mode 0600, the key never leaves this directory) and listed with its
 * server_names as SNI filters, the first being the default.
 */
async function writeCertificates(files: HaproxyFiles, services: ReadonlyArray<readonly [string, ServiceConfig]>): Promise<void> {
  const dir = join(files.dir, 'certs');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [name, service] of services) {
    const certificates = service.tls?.certificates ?? [];
    if (certificates.length === 0) continue;
    const lines: string[] = [];
    for (const [index, c] of certificates.entries()) {
      const combined = join(dir, `${name}-${index}.pem`);
      const [cert, key] = await Promise.all([readFile(c.cert, 'utf8'), readFile(c.key, 'utf8')]);
      await writeAtomic(combined, `${cert.trimEnd()}\n${key.trimEnd()}\n`);
      lines.push(c.server_names ? `${combined} ${c.server_names.join(' ')}` : combined);
    }
    await writeAtomic(files.crtList(name), `${lines.join('\n')}\n`);
  }
}

/**
 * Renders the configuration and its certificate files, checks it with
 * `haproxy -c` and only then renames it into place: a configuration HAProxy
 * refuses never replaces the running one.
 */
export async function writeHaproxyConfig(bin: string, files: HaproxyFiles, services: ReadonlyArray<readonly [string, ServiceConfig]>, states?: ServerStates): Promise<void> {
  await mkdir(files.dir, { recursive: true, mode: 0o700 });
  await writeCertificates(files, services);
  const text = renderHaproxyConfig(services, files, states);
  const candidate = `${files.config}.next`;
  await writeFile(candidate, text, { mode: 0o600 });
  try {
    await promisify(execFile)(bin, ['-c', '-q', '-f', candidate]);
  } catch (err) {
    const output = String((err as { stderr?: string }).stderr ?? err).trim().split('\n').filter((l) => /ALERT/.test(l)).slice(0, 5).join(' | ');
    await rm(candidate, { force: true });
    throw new BulwarkError('CONFIG_INVALID', `HAProxy refuses the configuration rendered from bulwark.yaml: ${output}`, { hint: 'run bulwark check; if it passes, this is a bug in the haproxy engine: set engine: builtin on the service named above and report it' });
  }
  await rename(candidate, files.config);
}

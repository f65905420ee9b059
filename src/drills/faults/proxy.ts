/**
 * A fault-injecting TCP proxy (Toxiproxy's idea) in front of an endpoint that
 * does not run in a network namespace of ours: it passes bytes through until a
 * fault sets its mode. `latency` delays each chunk both ways, `drop` closes new
 * connections at once, `reset` resets every connection (RST), `blackhole`
 * accepts and never answers.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { listenOn, splitListen } from '../../core/net.js';
import type { RevertJournal } from '../journal.js';
import { applyFault, type Fault } from './fault.js';

export type ProxyMode = { kind: 'pass' } | { kind: 'latency'; ms: number } | { kind: 'drop' } | { kind: 'reset' } | { kind: 'blackhole' };

export class FaultProxy {
  private mode: ProxyMode = { kind: 'pass' };
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly upstream: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(listen = '127.0.0.1:0'): Promise<{ host: string; port: number }> {
    await listenOn(this.server, { what: 'the fault proxy', key: 'listen', listen });
    const { host, port } = splitListen(listen);
    const address = this.server.address();
    return { host, port: typeof address === 'object' && address ? address.port : port };
  }

  get address(): string {
    const a = this.server.address();
    return typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a);
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
    if (mode.kind === 'reset') for (const s of this.sockets) s.resetAndDestroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
  }

  private accept(client: Socket): void {
    this.track(client);
    const mode = this.mode;
    if (mode.kind === 'drop') return void client.end();
    if (mode.kind === 'reset') return void client.resetAndDestroy();
    if (mode.kind === 'blackhole') return void client.resume();
    const upstream = createConnection(this.upstream);
    this.track(upstream);
    upstream.on('error', () => client.resetAndDestroy());
    client.on('error', () => upstream.destroy());
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  /** Bytes one way, delayed while the mode is latency; a blackhole set later swallows them. */
  private pipe(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      const mode = this.mode;
      if (mode.kind === 'blackhole') return;
      if (mode.kind === 'latency') {
        from.pause();
        setTimeout(() => { if (!to.destroyed) to.write(chunk); from.resume(); }, mode.ms).unref();
      } else if (!to.destroyed) to.write(chunk);
    });
    from.on('end', () => to.end());
    from.on('close', () => { if (!to.destroyed && this.mode.kind !== 'latency') to.end(); });
  }
}

/** A proxy fault: journalled (informational: the proxy ends with this process), reverted to pass-through. */
export async function proxyFault(journal: RevertJournal, proxy: FaultProxy, mode: Exclude<ProxyMode, { kind: 'pass' }>): Promise<Fault> {
  const fault = await applyFault(journal, { kind: 'proxy', listen: proxy.address, mode: mode.kind }, `proxy ${proxy.address}: ${mode.kind}`, async () => proxy.setMode(mode));
  return { ...fault, revert: async () => { proxy.setMode({ kind: 'pass' }); return fault.revert(); } };
}

import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * How `cut()` breaks the path:
 * - `hang` (the default) models a partition, packets dropped: open connections
 *   freeze, and new ones are accepted but go nowhere, so calls end only by
 *   their own timeouts. Bytes written meanwhile stay in the kernel's buffers
 *   and are delivered on `restore()`, late, as TCP retransmission would: etcd
 *   may then apply a request its sender already gave up on. (A real partition
 *   drops the SYN too, so connecting would time out instead of succeeding.)
 * - `reset` models a firewall REJECT or a rebooted host: every connection is
 *   reset at once and new ones are reset on arrival, so calls fail fast.
 */
export type CutMode = 'hang' | 'reset';

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
}

/** Forwards a local port to one TCP target; tests cut and restore one client's path to a server. */
export class TcpRelay {
  private readonly pairs = new Set<Pair>();
  private mode: CutMode | undefined;

  private constructor(private readonly server: Server, private readonly target: { host: string; port: number }, readonly port: number) {
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Listens on 127.0.0.1 at a port the OS picks; `target` is host:port or a URL. */
  static async start(target: string): Promise<TcpRelay> {
    const url = new URL(target.includes('://') ? target : `tcp://${target}`);
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the relay has no TCP address');
    return new TcpRelay(server, { host: url.hostname, port: Number(url.port) }, address.port);
  }

  /** The relay as an http URL, for a client that should reach the target through it. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isCut(): boolean {
    return this.mode !== undefined;
  }

  /** Open connections, including those held by a cut. */
  get connections(): number {
    return this.pairs.size;
  }

  cut(mode: CutMode = 'hang'): void {
    this.mode = mode;
    for (const pair of this.pairs) {
      if (mode === 'reset') {
        pair.client.resetAndDestroy();
        pair.upstream?.resetAndDestroy();
      } else {
        freeze(pair);
      }
    }
  }

  restore(): void {
    this.mode = undefined;
    for (const pair of this.pairs) {
      if (pair.upstream) flow(pair.client, pair.upstream);
      else this.dial(pair);
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined };
    this.pairs.add(pair);
    client.on('error', () => client.destroy());
    client.once('close', () => {
      this.pairs.delete(pair);
      pair.upstream?.destroy();
    });
    if (this.mode === 'hang') client.pause();
    else this.dial(pair);
  }

  private dial(pair: Pair): void {
    if (pair.client.destroyed) return;
    const upstream = connect(this.target.port, this.target.host);
    pair.upstream = upstream;
    upstream.on('error', () => upstream.destroy());
    upstream.once('close', () => pair.client.destroy());
    flow(pair.client, upstream);
  }
}

function flow(client: Socket, upstream: Socket): void {
  client.pipe(upstream);
  upstream.pipe(client);
}

function freeze(pair: Pair): void {
  pair.client.unpipe();
  pair.client.pause();
  pair.upstream?.unpipe();
  pair.upstream?.pause();
}

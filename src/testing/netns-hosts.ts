/**
 * Hosts as network namespaces on a bridge, for tests of members on separate
 * machines (root only). Each host is a namespace with one veth into a bridge
 * in the test's own namespace and its own 10.x address; the bridge has the
 * `.254` address, so processes of the test (etcd, the test's own clients) sit
 * on the same network. Names carry a random id, so parallel runs do not meet,
 * and `destroy()` removes everything (also called from a process exit hook).
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const live = new Set<NetnsHosts>();

export interface NetnsHost {
  /** The namespace's name, for `ip netns exec`. */
  ns: string;
  address: string;
}

async function ip(...args: string[]): Promise<void> {
  await execFileAsync('ip', args).catch((err: { stderr?: string }) => {
    throw new Error(`ip ${args.join(' ')} failed: ${err.stderr ?? String(err)}`);
  });
}

export class NetnsHosts {
  private destroyed = false;

  private constructor(readonly id: string, readonly bridge: string, readonly bridgeAddress: string, readonly hosts: NetnsHost[]) {}

  /** Whether this process may create namespaces (root, and `ip` present). */
  static async available(): Promise<boolean> {
    if (process.getuid?.() !== 0) return false;
    return execFileAsync('ip', ['netns', 'list']).then(() => true, () => false);
  }

  static async create(count: number): Promise<NetnsHosts> {
    const id = randomBytes(3).toString('hex');
    const subnet = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]! % 250}`;
    const hosts = Array.from({ length: count }, (_, i) => ({ ns: `bw-${id}-h${i + 1}`, address: `${subnet}.${i + 1}` }));
    const net = new NetnsHosts(id, `bwbr${id}`, `${subnet}.254`, hosts);
    live.add(net);
    installExitHook();
    try {
      await ip('link', 'add', net.bridge, 'type', 'bridge');
      await ip('addr', 'add', `${net.bridgeAddress}/24`, 'dev', net.bridge);
      await ip('link', 'set', net.bridge, 'up');
      for (const [i, h] of hosts.entries()) {
        const outer = `bwv${id}${i + 1}`;
        await ip('netns', 'add', h.ns);
        await ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', `${outer}n`);
        await ip('link', 'set', `${outer}n`, 'netns', h.ns);
        await ip('-n', h.ns, 'link', 'set', `${outer}n`, 'name', 'eth0');
        await ip('-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0');
        await ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
        await ip('-n', h.ns, 'link', 'set', 'lo', 'up');
        await ip('link', 'set', outer, 'master', net.bridge);
        await ip('link', 'set', outer, 'up');
      }
    } catch (err) {
      await net.destroy();
      throw err;
    }
    return net;
  }

  host(i: number): NetnsHost {
    const h = this.hosts[i];
    if (!h) throw new Error(`no host ${i}`);
    return h;
  }

  /** The host's only link goes down: it is cut off, its processes keep running. */
  async linkDown(i: number): Promise<void> {
    await ip('-n', this.host(i).ns, 'link', 'set', 'eth0', 'down');
  }

  /** A command to run inside the host's namespace (prefix for spawn). */
  exec(i: number): string[] {
    return ['ip', 'netns', 'exec', this.host(i).ns];
  }

  /** Removes the namespaces (their veths go with them) and the bridge; safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const h of this.hosts) await ip('netns', 'del', h.ns).catch(() => undefined);
    await ip('link', 'del', this.bridge).catch(() => undefined);
  }

  /** Synchronous cleanup for the exit hook. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const h of this.hosts) spawnSyncQuiet(['netns', 'del', h.ns]);
    spawnSyncQuiet(['link', 'del', this.bridge]);
  }
}

let hookInstalled = false;
function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.once('exit', () => {
    for (const net of live) net.destroySync();
  });
}

function spawnSyncQuiet(args: string[]): void {
  spawnSync('ip', args, { stdio: 'ignore' });
}

import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

/**
 * A throwaway network on this host, made of real kernel objects: a bridge with
 * two addresses (the control plane on .1, the probed target on .100) and one
 * network namespace per agent, each joined to the bridge by a veth pair.
 *
 * Cutting an agent off the target is a real cut: inside the agent's namespace
 * the target's address resolves (a permanent neighbour entry) to a MAC address
 * that no one owns, so its packets leave and are dropped on the bridge, and
 * connections time out, while the control plane on .1 stays reachable. (tc
 * drop actions and nftables need kernel modules this host may not have; this
 * needs none.)
 */
export class NetLab {
  readonly id = randomInt(0x1000, 0xffff).toString(16);
  readonly subnet = randomInt(1, 254);
  readonly bridge = `bwbr${this.id}`;
  readonly controlIp = `10.250.${this.subnet}.1`;
  readonly targetIp = `10.250.${this.subnet}.100`;
  private readonly namespaces = new Map<string, { ns: string; hostSide: string; nsSide: string; ip: string }>();
  private created = false;

  /** Builds the bridge and one namespace per name. Fails with a clear message when not allowed. */
  create(names: readonly string[]): void {
    try {
      this.created = true;
      ip('link', 'add', this.bridge, 'type', 'bridge');
      ip('addr', 'add', `${this.controlIp}/24`, 'dev', this.bridge);
      ip('addr', 'add', `${this.targetIp}/32`, 'dev', this.bridge);
      ip('link', 'set', this.bridge, 'up');
      names.forEach((name, index) => this.addNamespace(name, index));
    } catch (err) {
      this.destroy();
      throw new Error(
        `could not build the test network (needs root with CAP_NET_ADMIN: ip link/netns): ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  private addNamespace(name: string, index: number): void {
    const entry = { ns: `bw${name}${this.id}`, hostSide: `bwh${index}${this.id}`, nsSide: `bwn${index}${this.id}`, ip: `10.250.${this.subnet}.${index + 2}` };
    this.namespaces.set(name, entry);
    ip('netns', 'add', entry.ns);
    ip('link', 'add', entry.hostSide, 'type', 'veth', 'peer', 'name', entry.nsSide);
    ip('link', 'set', entry.hostSide, 'master', this.bridge);
    ip('link', 'set', entry.hostSide, 'up');
    ip('link', 'set', entry.nsSide, 'netns', entry.ns);
    ip('-n', entry.ns, 'addr', 'add', `${entry.ip}/24`, 'dev', entry.nsSide);
    ip('-n', entry.ns, 'link', 'set', entry.nsSide, 'up');
    ip('-n', entry.ns, 'link', 'set', 'lo', 'up');
  }

  /** The command prefix that runs a program inside a namespace. */
  exec(name: string): string[] {
    return ['ip', 'netns', 'exec', this.get(name).ns];
  }

  /** Packets from `name` to the target are dropped from now on; the control plane stays reachable. */
  cutTarget(name: string): void {
    const { ns, nsSide } = this.get(name);
    ip('-n', ns, 'neigh', 'replace', this.targetIp, 'lladdr', '02:00:00:de:ad:01', 'dev', nsSide, 'nud', 'permanent');
  }

  /** Undoes every cut (for afterEach); a namespace that was not cut is left as it is. */
  restoreAll(): void {
    for (const { ns, nsSide } of this.namespaces.values()) quiet('-n', ns, 'neigh', 'del', this.targetIp, 'dev', nsSide);
  }

  /** Removes everything this lab made; safe to call twice and after a partial create. */
  destroy(): void {
    if (!this.created) return;
    for (const { ns, hostSide } of this.namespaces.values()) {
      quiet('netns', 'del', ns);
      quiet('link', 'del', hostSide);
    }
    this.namespaces.clear();
    quiet('link', 'del', this.bridge);
    this.created = false;
  }

  private get(name: string): { ns: string; hostSide: string; nsSide: string; ip: string } {
    const entry = this.namespaces.get(name);
    if (!entry) throw new Error(`no namespace "${name}" in this lab`);
    return entry;
  }
}

function ip(...args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`ip ${args.join(' ')}: ${stderr || (err as Error).message}`, { cause: err });
  }
}

function quiet(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // already gone
  }
}

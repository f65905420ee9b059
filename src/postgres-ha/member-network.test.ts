import { describe, expect, it } from 'vitest';
import { listenAddresses, peerHbaLines, withPeerBlock } from './member-network.js';
import { isLoopback, runsHere, thisHost } from './member-selection.js';
import { parseSynchronousStandbyNames, synchronousStandbyNames } from './sync-names.js';

const roles = { replicationUser: 'replicator', tls: false };

describe('a member on the network', () => {
  it('listens on its own address and loopback; a loopback member on loopback only', () => {
    expect(listenAddresses('10.9.0.2')).toBe('127.0.0.1,10.9.0.2');
    expect(listenAddresses('127.0.0.1')).toBe('127.0.0.1');
  });

  it("lets in its peers' hosts and its own (the manager's queries) only, with scram-sha-256, for replication and for every database", () => {
    expect(peerHbaLines('10.9.0.2', ['10.9.0.3', '10.9.0.1', '127.0.0.1', '10.9.0.1'], roles)).toEqual([
      'host replication replicator 10.9.0.1/32 scram-sha-256', 'host all all 10.9.0.1/32 scram-sha-256',
      'host replication replicator 10.9.0.2/32 scram-sha-256', 'host all all 10.9.0.2/32 scram-sha-256',
      'host replication replicator 10.9.0.3/32 scram-sha-256', 'host all all 10.9.0.3/32 scram-sha-256',
    ]);
    expect(peerHbaLines('fd00::1', ['fd00::2'], { replicationUser: 'repl user', tls: true })).toEqual([
      'hostssl replication "repl user" fd00::1/128 scram-sha-256', 'hostssl all all fd00::1/128 scram-sha-256',
      'hostssl replication "repl user" fd00::2/128 scram-sha-256', 'hostssl all all fd00::2/128 scram-sha-256',
    ]);
    expect(peerHbaLines('db-a', ['db-b'], roles)).toContain('host all all db-b scram-sha-256');
    expect(peerHbaLines('127.0.0.1', ['127.0.0.1'], roles)).toEqual([]);
  });

  it('rewrites its peer block in place (a base backup brings the source block along), and removes it when empty', () => {
    const initdb = 'local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n';
    const fromSource = withPeerBlock(initdb, peerHbaLines('10.9.0.1', ['10.9.0.2'], roles));
    const fromSourceOnly = withPeerBlock(initdb, peerHbaLines('10.9.0.1', ['10.9.0.2', '10.9.0.3'], roles));
    const mine = withPeerBlock(fromSourceOnly, peerHbaLines('10.9.0.2', ['10.9.0.1'], roles));
    expect(fromSource).toContain('10.9.0.2/32');
    expect(mine).toContain('10.9.0.1/32');
    expect(mine).not.toContain('10.9.0.3/32');
    expect(mine.startsWith(initdb)).toBe(true);
    expect(withPeerBlock(mine, peerHbaLines('10.9.0.2', ['10.9.0.1'], roles))).toBe(mine);
    expect(withPeerBlock(mine, [])).toBe(initdb);
  });
});

describe('which members run here', () => {
  const member = (host: string, data_dir: string | undefined = '/srv/pg') => ({ name: 'm', host, data_dir });
  const withoutDataDir = (host: string) => ({ name: 'm', host });

  it("by this host's addresses; loopback always; never without data_dir", () => {
    const here = { node: undefined, addresses: new Set(['10.9.0.2']) };
    expect(runsHere(member('10.9.0.2'), here)).toBe(true);
    expect(runsHere(member('10.9.0.1'), here)).toBe(false);
    expect(runsHere(member('127.0.0.5'), here)).toBe(true);
    expect(runsHere(withoutDataDir('10.9.0.2'), here)).toBe(false);
    expect(isLoopback('::1') && isLoopback('localhost') && !isLoopback('10.0.0.1')).toBe(true);
  });

  it("this host's identity holds its loopback address and its name", () => {
    const me = thisHost('n1');
    expect(me.node).toBe('n1');
    expect(me.addresses.has('127.0.0.1')).toBe(true);
  });
});

describe('synchronous_standby_names', () => {
  it('renders ANY/FIRST n, capped at the number of names, and parses both back', () => {
    expect(synchronousStandbyNames(['m3', 'm2'])).toBe('ANY 1 ("m2", "m3")');
    expect(synchronousStandbyNames(['m2', 'm3', 'm4'], { method: 'FIRST', count: 2 })).toBe('FIRST 2 ("m2", "m3", "m4")');
    expect(synchronousStandbyNames(['m2'], { method: 'ANY', count: 2 })).toBe('ANY 1 ("m2")');
    expect(synchronousStandbyNames([], { method: 'ANY', count: 2 })).toBe('');
    expect(parseSynchronousStandbyNames('FIRST 2 ("m2", "m3")')).toEqual(['m2', 'm3']);
    expect(parseSynchronousStandbyNames('ANY 1 ("m2")')).toEqual(['m2']);
  });
});

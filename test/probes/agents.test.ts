import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor, withTimeout } from '../daemon/helpers.js';
import { Cluster, logged, prepareControlPlane, startControlPlane, type ControlPlane, type ProbesView } from './cluster.js';
import { NetLab } from './netlab.js';

/**
 * Real processes on a real (if small) network: the daemon and a target HTTP
 * server on a bridge on this host, and agents in their own network namespaces.
 * Cutting an agent's path to the target drops its packets in the kernel.
 */
const lab = new NetLab();
const cluster = new Cluster();

beforeAll(() => {
  lab.create(['a', 'b']);
});
afterEach(async () => {
  await cluster.cleanup();
  lab.restoreAll();
});
afterAll(async () => {
  await cluster.cleanup();
  lab.destroy();
});

type TargetView = ProbesView['targets'][number];

async function setup(): Promise<{ cp: ControlPlane; target: { port: number; stop(): Promise<void> }; targetId: string }> {
  const target = await cluster.target(lab.targetIp);
  const prepared = await prepareControlPlane(cluster, `http://${lab.targetIp}:${target.port}`);
  const cp = await startControlPlane(cluster, prepared, { host: lab.controlIp, port: await freePort() });
  return { cp, target, targetId: `service/api/${lab.targetIp}:${target.port}` };
}

function agent(cp: ControlPlane, ns: 'a' | 'b', token = cp.token) {
  return cluster.bulwark(['agent', '--join', cp.base, '--zone', `zone-${ns}`, '--name', `agent-${ns}`, '--log-format', 'json'], {
    prefix: lab.exec(ns),
    env: { BULWARK_AGENT_TOKEN: token },
  });
}

async function targetView(cp: ControlPlane, id: string): Promise<TargetView> {
  const view = (await cp.probes()).targets.find((t) => t.id === id);
  if (!view) throw new Error(`no target ${id} in /api/v1/probes`);
  return view;
}

function vantage(view: TargetView, name: string) {
  return view.vantages.find((v) => v.vantage === name);
}

/** Up, seen up by the daemon and both agents, all reporting. */
async function allUp(cp: ControlPlane, id: string): Promise<TargetView> {
  return waitFor(async () => {
    const view = await targetView(cp, id);
    const live = view.vantages.filter((v) => v.reporting && v.status === 'up').map((v) => v.vantage).sort();
    return view.status === 'up' && live.join(',') === 'agent-a,agent-b,local' ? view : undefined;
  }, 'the target up from 3 reporting vantage points', 30_000);
}

describe('agents and quorum, on a real network', () => {
  it('one cut-off agent cannot take a target down; a quorum can', async () => {
    const { cp, target, targetId } = await setup();
    agent(cp, 'a');
    agent(cp, 'b');
    await allUp(cp, targetId);

    lab.cutTarget('a');
    const cut = await waitFor(async () => {
      const view = await targetView(cp, targetId);
      return vantage(view, 'agent-a')?.status === 'down' ? view : undefined;
    }, 'agent-a to see the target down', 15_000);
    expect(cut.status).toBe('up');
    expect(vantage(cut, 'agent-a')?.reporting).toBe(true);

    // For the next 5 s the target holds: one vantage point is not a quorum of 2.
    const until = Date.now() + 5000;
    let polls = 0;
    while (Date.now() < until) {
      const view = await targetView(cp, targetId);
      expect(view.status, `target status while only agent-a is cut off (${view.reason})`).toBe('up');
      expect(vantage(view, 'agent-a')?.status).toBe('down');
      polls += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(polls).toBeGreaterThan(20);

    // The target really goes away: whichever of the daemon and agent-b sees it first
    // makes a quorum of 2 with agent-a (which one wins is a race); both follow.
    await target.stop();
    const down = await waitFor(async () => {
      const view = await targetView(cp, targetId);
      return view.status === 'down' ? view : undefined;
    }, 'the target down by quorum', 15_000);
    expect(down.reason).toMatch(/see it down \(quorum 2\)/);
    await waitFor(async () => {
      const view = await targetView(cp, targetId);
      const all = ['local', 'agent-a', 'agent-b'].every((name) => vantage(view, name)?.status === 'down');
      return view.status === 'down' && all ? view : undefined;
    }, 'the daemon and agent-b to see it down too', 15_000);
  });

  it('a killed agent turns silent, and its silence does not change the target', async () => {
    const { cp, targetId } = await setup();
    agent(cp, 'a');
    const b = agent(cp, 'b');
    await allUp(cp, targetId);

    b.child.kill('SIGKILL');
    const killedAt = Date.now();
    await withTimeout(b.exited, 10_000, 'agent-b exit');
    const silent = await waitFor(async () => {
      const view = await cp.probes();
      return view.agents.find((x) => x.name === 'agent-b' && !x.reporting) ? view : undefined;
    }, 'agent-b flagged silent', 3000 + 3000);
    expect(Date.now() - killedAt).toBeLessThan(3000 + 3000);
    expect(silent.agents.find((x) => x.name === 'agent-a')?.reporting).toBe(true);

    const view = await targetView(cp, targetId);
    expect(view.status).toBe('up');
    expect(vantage(view, 'agent-b')?.reporting).toBe(false);
    // Still up a while later: silence is not "down".
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await targetView(cp, targetId)).status).toBe('up');
    expect(logged(cp.proc, 'agent silent')).toHaveLength(1);
  });

  it('an agent with a wrong token exits non-zero and says why', async () => {
    const { cp } = await setup();
    const bad = agent(cp, 'a', 'not-a-valid-token-at-all');
    const { code } = await withTimeout(bad.exited, 30_000, 'agent with a bad token');
    expect(code).toBe(1);
    const errors = logged(bad, 'the agent token is invalid');
    expect(errors).toHaveLength(1);
    expect(String(errors[0]?.err)).toContain('HTTP 401');
    expect(bad.stderr()).not.toContain('not-a-valid-token-at-all');
  });

  it('an agent whose control plane is down keeps running, warns once, and joins when it comes up', async () => {
    const target = await cluster.target(lab.targetIp);
    const prepared = await prepareControlPlane(cluster, `http://${lab.targetIp}:${target.port}`);
    const port = await freePort();
    const base = `http://${lab.controlIp}:${port}`;
    const a = cluster.bulwark(['agent', '--join', base, '--zone', 'zone-a', '--name', 'agent-a', '--log-format', 'json'], {
      prefix: lab.exec('a'),
      env: { BULWARK_AGENT_TOKEN: prepared.token },
    });
    await waitFor(() => (logged(a, 'control plane unreachable').length > 0 ? true : undefined), 'the outage warning', 20_000);
    // Still running after several retries, and it warned only once.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(a.child.exitCode).toBeNull();
    const warnings = logged(a, 'control plane unreachable');
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.err)).toMatch(/ECONNREFUSED/);

    const cp = await startControlPlane(cluster, prepared, { host: lab.controlIp, port });
    await waitFor(async () => {
      const view = await cp.probes();
      return view.agents.find((x) => x.name === 'agent-a' && x.reporting && x.zone === 'zone-a') ? true : undefined;
    }, 'agent-a to join', 30_000);
    await waitFor(() => (logged(a, 'control plane reachable again').length > 0 ? true : undefined), 'the recovery log', 10_000);
    // It posts results: its view of the target shows up.
    const targetId = `service/api/${lab.targetIp}:${target.port}`;
    await waitFor(async () => (vantage(await targetView(cp, targetId), 'agent-a')?.status === 'up' ? true : undefined), 'agent-a results', 15_000);

    // SIGTERM stops it cleanly.
    a.child.kill('SIGTERM');
    const { code } = await withTimeout(a.exited, 15_000, 'agent SIGTERM');
    expect(code).toBe(0);
    expect(logged(a, 'agent stopped')).toHaveLength(1);
  });
});

/**
 * Network faults on a device inside a network namespace (`ip netns`): latency
 * and loss with tc netem, a partition by setting the device down. Journalled
 * before applied; reverted by deleting the qdisc / setting the device up.
 */
import { BulwarkError } from '../../core/errors.js';
import type { RevertJournal } from '../journal.js';
import { inNetns } from './exec.js';
import { applyFault, type Fault } from './fault.js';

export interface NetemSpec { delayMs?: number; jitterMs?: number; lossPercent?: number }

export interface NetnsDevice { netns: string; dev: string }

/** tc's words for the spec: `delay 100ms 10ms loss 5%`. */
export function netemArgs(spec: NetemSpec): string[] {
  const args: string[] = [];
  if (spec.delayMs !== undefined) args.push('delay', `${spec.delayMs}ms`, ...(spec.jitterMs !== undefined ? [`${spec.jitterMs}ms`] : []));
  if (spec.lossPercent !== undefined) {
    if (spec.lossPercent < 0 || spec.lossPercent > 100) throw new BulwarkError('USAGE', `loss ${spec.lossPercent}% is not a percentage`, { hint: 'give 0–100' });
    args.push('loss', `${spec.lossPercent}%`);
  }
  if (args.length === 0) throw new BulwarkError('USAGE', 'a netem fault needs a delay or a loss', { hint: 'for example { delayMs: 200 } or { lossPercent: 10 }' });
  return args;
}

export async function netemFault(journal: RevertJournal, target: NetnsDevice, spec: NetemSpec): Promise<Fault> {
  const args = netemArgs(spec);
  return applyFault(journal, { kind: 'qdisc', netns: target.netns, dev: target.dev, spec: args.join(' ') },
    `netem ${args.join(' ')} on ${target.dev} in netns ${target.netns}`,
    async () => void await inNetns(target.netns, 'tc', ['qdisc', 'add', 'dev', target.dev, 'root', 'netem', ...args]));
}

export async function partitionFault(journal: RevertJournal, target: NetnsDevice): Promise<Fault> {
  return applyFault(journal, { kind: 'link-down', netns: target.netns, dev: target.dev }, `partition: ${target.dev} down in netns ${target.netns}`,
    async () => void await inNetns(target.netns, 'ip', ['link', 'set', 'dev', target.dev, 'down']));
}

/** Whether this kernel has netem (a container's kernel may lack sch_netem); probed in a namespace of our own. */
export async function netemAvailable(scratchNetns: string): Promise<boolean> {
  try {
    await inNetns(scratchNetns, 'tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
    await inNetns(scratchNetns, 'tc', ['qdisc', 'del', 'dev', 'lo', 'root']);
    return true;
  } catch {
    return false;
  }
}

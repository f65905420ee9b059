import { connect } from 'node:net';
import type { CheckContext, CheckResult, CheckType, FailureReason } from '../types.js';
import { classifyError, onDeadline, Stopwatch, timeoutMessage } from './outcome.js';

export interface TcpCheckSpec {
  host: string;
  port: number;
}

type Outcome = { ok: true } | { ok: false; reason: FailureReason; message: string };

export const tcpCheck: CheckType<TcpCheckSpec> = { type: 'tcp', run: runTcpCheck };

/** Succeeds when a TCP connection is established; sends nothing. */
export async function runTcpCheck(spec: TcpCheckSpec, context: CheckContext): Promise<CheckResult> {
  const watch = new Stopwatch();
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65_535) {
    return watch.fail('error', `invalid port ${spec.port}; use 1-65535`);
  }
  if (context.signal.aborted) return watch.fail('timeout', timeoutMessage(context));
  const outcome = await new Promise<Outcome>((resolve) => {
    const socket = connect({ host: spec.host, port: spec.port });
    let settled = false;
    const settle = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      resolve(outcome);
    };
    const cleanup = onDeadline(context, () => settle({ ok: false, reason: 'timeout', message: timeoutMessage(context) }));
    socket.once('connect', () => settle({ ok: true }));
    socket.once('error', (error) => settle({ ok: false, ...classifyError(error) }));
  });
  if (!outcome.ok) return watch.fail(outcome.reason, outcome.message);
  return watch.pass({ connectMs: watch.elapsed() });
}

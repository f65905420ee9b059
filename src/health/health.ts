import { runCheck } from './run-check.js';
import type { CheckResult, Health, HealthCheck, HealthOptions, HealthStatus, LiveAnswer, ReadyAnswer } from './types.js';

export const DEFAULT_TIMEOUT_MS = 2000;

/**
 * Builds the two answers an application serves to its probes: a shallow liveness
 * answer (the process responds) and a deep readiness answer (its dependencies do).
 *
 * Readiness runs every check in parallel, each under its own deadline. Calls made
 * while a run is in flight share it (single-flight); with `cacheMs` > 0 a finished
 * answer is reused until it is that old.
 */
export function createHealth(options: HealthOptions): Health {
  const timeoutMs = validMs(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs', false);
  const cacheMs = validMs(options.cacheMs ?? 0, 'cacheMs', true);
  const checks = validChecks(options.checks, timeoutMs);

  let inflight: Promise<ReadyAnswer> | undefined;
  let cached: { answer: ReadyAnswer; at: number } | undefined;

  async function evaluate(): Promise<ReadyAnswer> {
    const results = await Promise.all(checks.map(({ check, timeout }) => runCheck(check, timeout)));
    const entries: Record<string, CheckResult> = {};
    checks.forEach(({ name }, i) => {
      entries[name] = results[i] as CheckResult;
    });
    const status = overall(checks.map(({ check }, i) => ({ critical: check.critical !== false, result: results[i] as CheckResult })));
    return {
      httpStatus: status === 'fail' ? 503 : 200,
      body: { status, timestamp: new Date().toISOString(), checks: entries },
    };
  }

  return {
    live(): LiveAnswer {
      return { httpStatus: 200, body: { status: 'pass', timestamp: new Date().toISOString() } };
    },
    ready(): Promise<ReadyAnswer> {
      if (cached && Date.now() - cached.at < cacheMs) return Promise.resolve(cached.answer);
      if (inflight) return inflight;
      const run = evaluate()
        .then((answer) => {
          if (cacheMs > 0) cached = { answer, at: Date.now() };
          return answer;
        })
        .finally(() => {
          inflight = undefined;
        });
      inflight = run;
      return run;
    },
  };
}

function overall(results: { critical: boolean; result: CheckResult }[]): HealthStatus {
  let status: HealthStatus = 'pass';
  for (const { critical, result } of results) {
    if (result.status === 'pass') continue;
    if (critical) return 'fail';
    status = 'warn';
  }
  return status;
}

function validMs(value: number, field: string, zeroAllowed: boolean): number {
  const ok = Number.isFinite(value) && (zeroAllowed ? value >= 0 : value > 0);
  if (!ok) {
    throw new TypeError(`createHealth: ${field} must be a ${zeroAllowed ? 'non-negative' : 'positive'} number of milliseconds, got ${String(value)}`);
  }
  return value;
}

function validChecks(checks: Record<string, HealthCheck>, timeoutMs: number): { name: string; check: HealthCheck; timeout: number }[] {
  if (checks === null || typeof checks !== 'object') {
    throw new TypeError('createHealth: checks must be an object of named checks, e.g. { db: { run: (signal) => pingDb(signal) } }');
  }
  return Object.entries(checks).map(([name, check]) => {
    if (typeof check?.run !== 'function') {
      throw new TypeError(`createHealth: check "${name}" has no run(signal) function`);
    }
    const timeout = validMs(check.timeoutMs ?? timeoutMs, `checks.${name}.timeoutMs`, false);
    return { name, check, timeout };
  });
}

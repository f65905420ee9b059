import { BulwarkError } from '../../core/errors.js';
import type { AdminState, HealthStatus, PoolEndpointSpec } from './types.js';

export const MAX_WEIGHT = 1000;
export const DEFAULT_WEIGHT = 100;

const ADMIN_STATES: readonly AdminState[] = ['enabled', 'draining', 'disabled'];
const HEALTH_STATES: readonly HealthStatus[] = ['unknown', 'up', 'down'];

export function checkWeight(id: string, weight: unknown): number {
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT) {
    throw new BulwarkError('BAD_REQUEST', `weight of endpoint "${id}" must be an integer from 0 to ${MAX_WEIGHT}, got ${String(weight)}`, {
      hint: `0 stops new traffic (in-flight and sticky requests finish); ${DEFAULT_WEIGHT} is the default`,
      context: { endpoint: id, weight },
    });
  }
  return weight;
}

export function checkAdminState(id: string, state: unknown): AdminState {
  if (!ADMIN_STATES.includes(state as AdminState)) {
    throw new BulwarkError('BAD_REQUEST', `admin state of endpoint "${id}" must be one of ${ADMIN_STATES.join(', ')}, got ${String(state)}`, {
      hint: 'draining stops new requests and lets in-flight ones finish; disabled takes the endpoint out entirely',
      context: { endpoint: id, state },
    });
  }
  return state as AdminState;
}

export function checkHealth(id: string, status: unknown): HealthStatus {
  if (!HEALTH_STATES.includes(status as HealthStatus)) {
    throw new BulwarkError('BAD_REQUEST', `health of endpoint "${id}" must be one of ${HEALTH_STATES.join(', ')}, got ${String(status)}`, {
      context: { endpoint: id, status },
    });
  }
  return status as HealthStatus;
}

export function checkEjection(id: string, untilMs: unknown): number {
  if (typeof untilMs !== 'number' || !Number.isFinite(untilMs)) {
    throw new BulwarkError('BAD_REQUEST', `ejection of endpoint "${id}" needs a finite time in epoch milliseconds, got ${String(untilMs)}`, {
      context: { endpoint: id, untilMs },
    });
  }
  return untilMs;
}

export function unknownEndpoint(id: string, known: Iterable<string>): BulwarkError {
  const list = [...known];
  return new BulwarkError('NOT_FOUND', `no endpoint "${id}" in this pool`, {
    hint: list.length > 0 ? `known endpoints: ${list.join(', ')}` : 'the pool has no endpoints',
    context: { endpoint: id },
  });
}

/** Endpoint ids must be non-empty and unique; weights valid. */
export function checkSpecs(specs: readonly PoolEndpointSpec[]): void {
  const seen = new Set<string>();
  for (const spec of specs) {
    if (typeof spec.id !== 'string' || spec.id === '') {
      throw new BulwarkError('BAD_REQUEST', `endpoint ${spec.url} has no id`, { hint: 'give every endpoint a stable, non-empty id' });
    }
    if (seen.has(spec.id)) {
      throw new BulwarkError('BAD_REQUEST', `endpoint id "${spec.id}" appears twice in the pool`, {
        hint: 'give endpoints that share a host distinct names',
        context: { endpoint: spec.id },
      });
    }
    seen.add(spec.id);
    if (spec.weight !== undefined) checkWeight(spec.id, spec.weight);
  }
}

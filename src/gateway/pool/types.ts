import type { ServiceConfig } from '../../config/index.js';

/** What the probes last said about an endpoint. */
export type HealthStatus = 'unknown' | 'up' | 'down';

/**
 * What the operator says. `draining`: no new requests, in-flight ones finish,
 * sticky sessions move away. `disabled`: out of rotation entirely.
 */
export type AdminState = 'enabled' | 'draining' | 'disabled';

/** 1 = non-backup in primary zones, 2 = other non-backup (secondary zones), 3 = backup. */
export type Tier = 1 | 2 | 3;

/**
 * Which tiers take new traffic, from best to worst:
 * `primary` (tier 1), `spillover` (tiers 1 and 2), `backup` (tier 3), `none` (nothing eligible).
 */
export type TierLevel = 'primary' | 'spillover' | 'backup' | 'none';

export type Algorithm = NonNullable<ServiceConfig['load_balancing']>['algorithm'];

/** One endpoint as the config declares it. `id` must be stable across reloads. */
export interface PoolEndpointSpec {
  id: string;
  url: string;
  zone?: string | undefined;
  backup?: boolean;
  /** 0..1000; 0 takes no new traffic. Default 100. */
  weight?: number;
}

/** The live state of one endpoint. */
export interface EndpointState {
  readonly id: string;
  url: string;
  zone: string | undefined;
  backup: boolean;
  weight: number;
  health: HealthStatus;
  admin: AdminState;
  /** Epoch ms until which outlier detection keeps the endpoint out; absent when not ejected. */
  ejectedUntil?: number;
  /** In-flight requests/connections, counted through `acquire`/`release`. */
  active: number;
}

export interface FailoverSettings {
  primaryZones?: readonly string[] | undefined;
  /** 0..1: below this eligible share of tier 1, traffic spills over to tier 2. */
  minHealthyShare?: number | undefined;
  /** false: once traffic moved to a lower tier it stays there until `resetFailover()`. Default true. */
  failback?: boolean;
}

export interface TierChange {
  from: TierLevel;
  to: TierLevel;
  /** `failover`: to a worse level; `failback`: to a better one. */
  direction: 'failover' | 'failback';
  reason: string;
  at: number;
}

export interface PickerContext {
  /** Uniform in [0, 1). */
  random: () => number;
}

/** A balancing algorithm. Candidates are eligible, non-empty where possible, weight > 0. */
export interface Picker {
  pick(candidates: readonly EndpointState[], ctx: PickerContext): EndpointState | undefined;
}

export interface PickOptions {
  /** Endpoints already tried by this request (retries): skipped while any other candidate exists. */
  exclude?: ReadonlySet<string>;
  /** The sticky-session cookie value the client sent. */
  stickyKey?: string | undefined;
}

export interface PickResult {
  endpoint: Readonly<EndpointState>;
  /** A sticky key was given but could not be honoured: the proxy should set a new cookie. */
  stickyBroken: boolean;
  /** The sticky key was honoured. */
  stickyHit: boolean;
}

/** An endpoint as status output shows it: its state, plus what the pool decides about it now. */
export interface EndpointSnapshot extends Omit<EndpointState, 'id' | 'ejectedUntil'> {
  id: string;
  ejectedUntil: number | undefined;
  ejected: boolean;
  tier: Tier;
  /** Could take new traffic if its tier were active. */
  eligible: boolean;
  /** Takes new traffic now: eligible and in the active tier set. */
  serving: boolean;
}

export interface PoolSnapshot {
  level: TierLevel;
  /** With `failback: false`: the level traffic is held at until `resetFailover()`. */
  heldLevel: TierLevel | undefined;
  algorithm: Algorithm | string;
  endpoints: EndpointSnapshot[];
}

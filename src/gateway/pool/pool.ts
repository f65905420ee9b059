import { FailoverTracker, type TierChangeListener } from './failover.js';
import { createPicker } from './pickers.js';
import { StickyCodec } from './sticky.js';
import { candidatesAt, isEjected, tierOf, tiersAt, viewTiers, type TierView } from './tiers.js';
import type {
  AdminState, Algorithm, EndpointSnapshot, EndpointState, FailoverSettings, HealthStatus, Picker,
  PickOptions, PickResult, PoolEndpointSpec, PoolSnapshot, TierLevel,
} from './types.js';
import { DEFAULT_WEIGHT, checkAdminState, checkEjection, checkHealth, checkSpecs, checkWeight, unknownEndpoint } from './validate.js';

export interface PoolOptions {
  /** Default `round_robin`. */
  algorithm?: Algorithm | string;
  failover?: FailoverSettings;
  /** Reported on every change of the active tier set. */
  onChange?: TierChangeListener;
  /** Clock, epoch ms (ejections). Default `Date.now`. */
  now?: () => number;
  /** Uniform in [0, 1) (power_of_two_choices). Default `Math.random`. */
  random?: () => number;
  /** Key for sticky cookie values; random per process when absent. At least 16 bytes. */
  stickySecret?: string | Uint8Array;
}

export interface PoolSettings {
  algorithm?: Algorithm | string;
  failover?: FailoverSettings;
}

/**
 * The endpoints of one service and the decision of where a new request goes:
 * eligibility (admin state, health, ejection, weight), zone tiers with
 * failover/spillover/failback, the balancing algorithm, retries that avoid
 * endpoints already tried, and sticky sessions. Pure and synchronous.
 */
export class EndpointPool {
  #list: EndpointState[] = [];
  #byId = new Map<string, EndpointState>();
  /** Requests in flight in other processes (gateway workers), reported to the primary: shown in snapshots, not used to pick. */
  #externalActive = new Map<string, number>();
  /** The weight each endpoint had in config, to tell a config change from a runtime override on reload. */
  #configWeight = new Map<string, number>();
  #algorithm: string;
  #picker: Picker;
  #failover: FailoverSettings;
  readonly #tracker: FailoverTracker;
  readonly #codec: StickyCodec;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(endpoints: readonly PoolEndpointSpec[], options: PoolOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#algorithm = options.algorithm ?? 'round_robin';
    this.#picker = createPicker(this.#algorithm);
    this.#failover = { ...options.failover };
    this.#codec = new StickyCodec(options.stickySecret);
    this.#replace(endpoints);
    this.#tracker = new FailoverTracker(this.#view(this.#now()), this.#failover, options.onChange);
  }

  /** The active tier set (recomputed, so ejections that ran out are seen). */
  get level(): TierLevel {
    return this.evaluate();
  }

  /** Recompute the active tier set now; reports a change through `onChange`. */
  evaluate(): TierLevel {
    return this.#refresh().level;
  }

  /** Where a new request (or a retry) goes; undefined when nothing is eligible. */
  pick(options: PickOptions = {}): PickResult | undefined {
    const { view, level } = this.#refresh();
    const { stickyKey, exclude } = options;
    let stickyWanted = false;
    if (stickyKey !== undefined) {
      const sticky = this.#stickyTarget(stickyKey, view, level);
      if (sticky && !exclude?.has(sticky.id)) return { endpoint: sticky, stickyHit: true, stickyBroken: false };
      // A retry that must avoid the sticky endpoint keeps the cookie: one failed try does not move the session.
      stickyWanted = sticky !== undefined;
    }
    const candidates = candidatesAt(view, level);
    const endpoint = this.#picker.pick(retryCandidates(view, candidates, exclude), { random: this.#random });
    if (!endpoint) return undefined;
    return { endpoint, stickyHit: false, stickyBroken: stickyKey !== undefined && !stickyWanted };
  }

  /** Count a request/connection in flight on an endpoint. False when the id is gone (reload race). */
  acquire(id: string): boolean {
    const e = this.#byId.get(id);
    if (!e) return false;
    e.active += 1;
    return true;
  }

  /** The request/connection finished. Unknown ids (removed by a reload) are ignored. */
  release(id: string): void {
    const e = this.#byId.get(id);
    if (e && e.active > 0) e.active -= 1;
  }

  setHealth(id: string, status: HealthStatus): void {
    this.#get(id).health = checkHealth(id, status);
    this.#refresh();
  }

  setAdminState(id: string, state: AdminState): void {
    this.#get(id).admin = checkAdminState(id, state);
    this.#refresh();
  }

  /** Runtime weight, 0..1000 (0: no new traffic). Kept across reloads unless the config's weight changes. */
  setWeight(id: string, weight: number): void {
    this.#get(id).weight = checkWeight(id, weight);
    this.#refresh();
  }

  /** Outlier detection: no new traffic until `untilMs` (epoch ms). */
  eject(id: string, untilMs: number): void {
    this.#get(id).ejectedUntil = checkEjection(id, untilMs);
    this.#refresh();
  }

  clearEjection(id: string): void {
    delete this.#get(id).ejectedUntil;
    this.#refresh();
  }

  /** Release a `failback: false` hold: traffic follows eligibility again. */
  resetFailover(): TierLevel {
    const now = this.#now();
    return this.#tracker.reset(this.#view(now), this.#failover, now);
  }

  /**
   * Reload: endpoints whose id persists keep health, admin state, ejection and
   * in-flight count (health and ejection reset when the url changed: a new
   * address is unverified). A runtime weight survives unless the config's weight changed.
   */
  update(endpoints: readonly PoolEndpointSpec[], settings: PoolSettings = {}): void {
    checkSpecs(endpoints); // validate everything before changing anything
    if (settings.algorithm !== undefined && settings.algorithm !== this.#algorithm) {
      const picker = createPicker(settings.algorithm);
      this.#algorithm = settings.algorithm;
      this.#picker = picker;
    }
    this.#replace(endpoints);
    if (settings.failover !== undefined) {
      this.#failover = { ...settings.failover };
      this.#tracker.configure(this.#failover);
    }
    this.#refresh('config reload: ');
  }

  /** The opaque sticky cookie value for an endpoint. */
  stickyCookieValue(endpoint: Pick<EndpointState, 'id'> | string): string {
    return this.#codec.encode(typeof endpoint === 'string' ? endpoint : endpoint.id);
  }

  /** The endpoint a sticky cookie value stands for (whatever its state). */
  endpointForStickyCookie(value: string): Readonly<EndpointState> | undefined {
    const id = this.#codec.decode(value);
    return id === undefined ? undefined : this.#byId.get(id);
  }

  get(id: string): Readonly<EndpointState> | undefined {
    return this.#byId.get(id);
  }

  /** Replace the in-flight counts reported by worker processes. */
  setExternalActive(counts: ReadonlyMap<string, number>): void {
    this.#externalActive = new Map(counts);
  }

  snapshot(): PoolSnapshot {
    const { view, level } = this.#refresh();
    const now = this.#now();
    const active = tiersAt(level);
    const eligible = new Set([...view.eligible[1], ...view.eligible[2], ...view.eligible[3]].map((e) => e.id));
    const endpoints = this.#list.map((e): EndpointSnapshot => {
      const tier = tierOf(e, this.#failover.primaryZones);
      return {
        id: e.id, url: e.url, zone: e.zone, backup: e.backup, weight: e.weight, health: e.health, admin: e.admin,
        ejectedUntil: e.ejectedUntil, ejected: isEjected(e, now), active: e.active + (this.#externalActive.get(e.id) ?? 0), tier,
        eligible: eligible.has(e.id), serving: eligible.has(e.id) && active.includes(tier),
      };
    });
    return { level, heldLevel: this.#tracker.held, algorithm: this.#algorithm, endpoints };
  }

  #refresh(reasonPrefix = ''): { view: TierView; level: TierLevel } {
    const now = this.#now();
    const view = this.#view(now);
    return { view, level: this.#tracker.evaluate(view, this.#failover, now, reasonPrefix) };
  }

  #view(now: number): TierView {
    return viewTiers(this.#list, this.#failover, now);
  }

  #get(id: string): EndpointState {
    const e = this.#byId.get(id);
    if (!e) throw unknownEndpoint(id, this.#byId.keys());
    return e;
  }

  #stickyTarget(key: string, view: TierView, level: TierLevel): EndpointState | undefined {
    const id = this.#codec.decode(key);
    const e = id === undefined ? undefined : this.#byId.get(id);
    if (!e || !view.routable.has(e.id)) return undefined;
    return tiersAt(level).includes(tierOf(e, this.#failover.primaryZones)) ? e : undefined;
  }

  #replace(specs: readonly PoolEndpointSpec[]): void {
    checkSpecs(specs);
    const list: EndpointState[] = [];
    const configWeight = new Map<string, number>();
    for (const spec of specs) {
      const weight = spec.weight ?? DEFAULT_WEIGHT;
      list.push(this.#carryOver(spec, weight));
      configWeight.set(spec.id, weight);
    }
    this.#list = list;
    this.#byId = new Map(list.map((e) => [e.id, e]));
    this.#configWeight = configWeight;
    this.#codec.index(this.#byId.keys());
  }

  #carryOver(spec: PoolEndpointSpec, weight: number): EndpointState {
    const prev = this.#byId.get(spec.id);
    const fresh: EndpointState = {
      id: spec.id, url: spec.url, zone: spec.zone, backup: spec.backup ?? false, weight,
      health: 'unknown', admin: 'enabled', active: 0,
    };
    if (!prev) return fresh;
    const keepWeight = this.#configWeight.get(spec.id) === weight;
    const moved = prev.url !== spec.url;
    Object.assign(prev, { url: spec.url, zone: spec.zone, backup: fresh.backup, weight: keepWeight ? prev.weight : weight });
    if (moved) {
      prev.health = 'unknown';
      delete prev.ejectedUntil;
    }
    return prev;
  }
}

/**
 * Candidates minus those already tried. When the active tiers have nothing
 * left, a retry moves on to the other eligible tiers in order (secondary
 * zones, then backups), as Envoy's previous_priorities retry plugin and
 * HAProxy's redispatch do: a lone primary that just died must not be retried
 * against itself while a healthy secondary exists. Only when nothing else
 * is eligible anywhere is an endpoint tried again.
 */
function retryCandidates(view: TierView, candidates: EndpointState[], exclude: ReadonlySet<string> | undefined): EndpointState[] {
  if (!exclude || exclude.size === 0) return candidates;
  const untried = (list: readonly EndpointState[]) => list.filter((c) => !exclude.has(c.id));
  const rest = untried(candidates);
  if (rest.length > 0) return rest;
  for (const tier of [1, 2, 3] as const) {
    const elsewhere = untried(view.eligible[tier]);
    if (elsewhere.length > 0) return elsewhere;
  }
  return candidates;
}

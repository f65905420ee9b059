import type { AlertCondition, BulwarkConfig } from '../../config/index.js';
import type { ResolvedRule, RuleSubjects } from '../default-rules.js';
import type { Signal } from '../types.js';

/** The part of a resolved rule the sources read. */
export type RuleLike = Pick<ResolvedRule, 'name' | 'when' | 'subjects' | 'thresholds'>;

export type Emit = (signals: Signal[]) => void;

/** What each source and their composition offer the engine. */
export interface SignalSources {
  start(emit: Emit): void;
  stop(): void;
  reload(rules: readonly RuleLike[], config: BulwarkConfig): void;
  /** Current firing alerts, for a restart to re-derive state. */
  snapshot(): Signal[];
}

export function rulesFor(rules: readonly RuleLike[], ...conditions: AlertCondition[]): RuleLike[] {
  return rules.filter((r) => conditions.includes(r.when));
}

export type SubjectKind = keyof RuleSubjects;

/**
 * Rules by condition and by the subjects they list, so an event about one
 * endpoint finds its few rules without a scan of every rule (the default rules
 * have one per service).
 */
export class RuleIndex {
  private readonly byCondition = new Map<AlertCondition, RuleLike[]>();
  private readonly bySubject = new Map<string, RuleLike[]>();

  constructor(readonly rules: readonly RuleLike[]) {
    for (const rule of rules) {
      push(this.byCondition, rule.when, rule);
      for (const [kind, names] of Object.entries(rule.subjects) as Array<[SubjectKind, string[]]>) {
        for (const name of names) push(this.bySubject, subjectKey(rule.when, kind, name), rule);
      }
    }
  }

  /** Every rule of the condition. */
  of(when: AlertCondition): RuleLike[] {
    return this.byCondition.get(when) ?? [];
  }

  /** The rules of the condition that list this subject. */
  for(when: AlertCondition, kind: SubjectKind, name: string): RuleLike[] {
    return this.bySubject.get(subjectKey(when, kind, name)) ?? [];
  }

  names(): Set<string> {
    return new Set(this.rules.map((r) => r.name));
  }
}

const subjectKey = (when: string, kind: string, name: string): string => `${when}\u0000${kind}\u0000${name}`;

function push<K>(map: Map<K, RuleLike[]>, key: K, rule: RuleLike): void {
  const list = map.get(key);
  if (list) list.push(rule);
  else map.set(key, [rule]);
}

export function regionOfZone(config: BulwarkConfig, zone: string | undefined): string | undefined {
  return zone === undefined ? undefined : config.zones[zone]?.region;
}

export function tierOf(config: BulwarkConfig, kind: 'service' | 'database', name: string): string | undefined {
  return kind === 'service' ? config.services[name]?.tier : config.databases[name]?.tier;
}

/** Labels without the undefined ones. */
export function labels(entries: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

const key = (rule: string, subject: string): string => `${rule}\u0000${subject}`;

/**
 * Remembers each alert's firing state so a source reports changes only: a
 * firing alert once when it starts, once when it clears.
 */
export class AlertTracker {
  private readonly firing = new Map<string, Signal>();

  /** The signal to emit if this changes the alert's state, else null. */
  update(signal: Signal): Signal | null {
    const k = key(signal.rule, signal.subject);
    const was = this.firing.has(k);
    if (signal.firing) this.firing.set(k, signal);
    else this.firing.delete(k);
    return was === signal.firing ? null : signal;
  }

  /**
   * Applies a complete evaluation of `rules`: what it reports is updated, and a
   * firing alert of those rules it no longer mentions (its subject or its rule
   * went away) clears.
   */
  sync(evaluated: readonly Signal[], rules: ReadonlySet<string>, at: number): Signal[] {
    const out: Signal[] = [];
    const seen = new Set<string>();
    for (const s of evaluated) {
      seen.add(key(s.rule, s.subject));
      const changed = this.update(s);
      if (changed) out.push(changed);
    }
    for (const [k, s] of this.firing) {
      if (seen.has(k) || !rules.has(s.rule)) continue;
      out.push(this.cleared(s, at, 'no longer watched'));
    }
    return out;
  }

  /** Clears every firing alert whose rule is not in `keep`. */
  dropRules(keep: ReadonlySet<string>, at: number): Signal[] {
    return [...this.firing.values()].filter((s) => !keep.has(s.rule)).map((s) => this.cleared(s, at, 'rule removed'));
  }

  snapshot(): Signal[] {
    return [...this.firing.values()];
  }

  private cleared(s: Signal, at: number, why: string): Signal {
    this.firing.delete(key(s.rule, s.subject));
    return { ...s, firing: false, at, summary: `${s.summary} (${why})` };
  }
}

export interface PollOptions {
  intervalMs: number;
  evaluate: () => Promise<Signal[]>;
  onError: (err: unknown) => void;
}

/** Runs `evaluate` now and every interval, never two at once; the timer does not hold the process open. */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private emit: Emit | undefined;

  constructor(private readonly options: PollOptions) {}

  start(emit: Emit): void {
    this.emit = emit;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.emit = undefined;
  }

  /** One evaluation now (tests, reload); resolves when it is done. */
  tick(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    // Stopped: an evaluation now would change the remembered state without anyone hearing of it.
    if (!this.emit) return;
    try {
      const signals = await this.options.evaluate();
      if (signals.length > 0) this.emit?.(signals);
    } catch (err) {
      this.options.onError(err);
    }
  }
}

export interface AgentView {
  name: string;
  zone?: string;
  lastSeen: number;
  reporting: boolean;
}

/**
 * Agents known to the control plane. An agent that has not reported within
 * the timeout is silent: flagged, and its views stop counting toward quorums.
 */
export class AgentRegistry {
  private readonly agents = new Map<string, AgentView>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: { timeoutMs: () => number; now: () => number; onChange: (agent: AgentView) => void }) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Any request from an agent counts as a sign of life. */
  heartbeat(name: string, zone?: string): void {
    const existing = this.agents.get(name);
    const now = this.options.now();
    if (existing) {
      existing.lastSeen = now;
      if (zone) existing.zone = zone;
      if (!existing.reporting) {
        existing.reporting = true;
        this.options.onChange({ ...existing });
      }
      return;
    }
    const agent: AgentView = { name, zone, lastSeen: now, reporting: true };
    this.agents.set(name, agent);
    this.options.onChange({ ...agent });
  }

  isReporting(name: string): boolean {
    return this.agents.get(name)?.reporting ?? false;
  }

  views(): AgentView[] {
    return [...this.agents.values()].map((a) => ({ ...a }));
  }

  sweep(): void {
    const now = this.options.now();
    for (const agent of this.agents.values()) {
      if (agent.reporting && now - agent.lastSeen > this.options.timeoutMs()) {
        agent.reporting = false;
        this.options.onChange({ ...agent });
      }
    }
  }
}

/**
 * The normalized topology the planner works on, owned by the planner. The
 * config adapter (`toTopology` in config/topology.ts) builds it from a parsed
 * bulwark.yaml; the planner never sees YAML or imports config. Availabilities
 * are fractions (0.999), durations are milliseconds.
 */
export interface Topology {
  tiers: Record<string, { availability: number /* fraction, 0.999 */; rtoMs: number; rpoMs: number }>;
  regions: Record<string, { availability: number }>; // failure domain
  zones: Record<string, { region: string; availability: number }>; // failure domain inside a region
  components: Record<string, Component>; // services and databases
}

export interface Component {
  kind: 'service' | 'database' | 'gateway';
  tier?: string;
  members: Member[]; // endpoints of a service, members of a database
  dependsOn: string[]; // names of other components (series)
  detectionMs?: number; // how long until a dead member is noticed (health check interval*fall+timeout, or lease ttl)
  failoverMs?: number; // extra time to switch after detection (0 for a gateway's endpoints, promotion time for a database, VRRP takeover for a VIP)
}

export interface Member {
  name: string;
  zone?: string;
  /**
   * The host the member runs on (a database member's host, an endpoint URL's
   * host); members on one host in one zone share it as a failure domain.
   */
  host?: string;
  availability: number;
  backup: boolean;
}

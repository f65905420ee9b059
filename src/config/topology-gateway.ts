import type { Component, Member } from '../plan/index.js';
import type { BulwarkConfig } from './schema.js';

/**
 * VRRP (RFC 5798): a backup declares the master dead after three missed
 * advertisements plus a skew of (256 − priority)/256 of one; keepalived's
 * default priority 100 makes that 3.61 advertisement intervals.
 */
export const VRRP_MASTER_DOWN_INTERVALS = 3 + (256 - 100) / 256;

/** The component name of the gateway in the plan, unless a service or database already has it. */
export function gatewayComponentName(config: BulwarkConfig): string {
  return 'gateway' in config.services || 'gateway' in config.databases ? 'bulwark-gateway' : 'gateway';
}

/**
 * The built-in gateway as a component in front of every service with listen:,
 * once gateway.hosts or gateway.vip says where it runs. Its members are the
 * gateway hosts; with a VIP, a dead host is noticed after VRRP's master-down
 * interval and the address moves with the new master's first advertisement
 * (gratuitous ARP); without one, clients must find another host themselves
 * (DNS, retries), a time the planner does not know.
 */
export function gatewayComponent(config: BulwarkConfig, endpointDefault: number): Component | undefined {
  const { hosts, vip } = config.gateway;
  if (!hosts && !vip) return undefined;
  const members: Member[] = (hosts ?? [{ name: 'gateway', zone: undefined, host: undefined, availability: undefined }]).map((h) => ({
    name: h.name, zone: h.zone, host: h.host, availability: h.availability ?? endpointDefault, backup: false,
  }));
  const component: Component = { kind: 'gateway', members, dependsOn: [] };
  if (vip && members.length > 1) {
    component.detectionMs = Math.round(VRRP_MASTER_DOWN_INTERVALS * vip.advert_interval);
    component.failoverMs = vip.advert_interval;
  }
  return component;
}

/** The services the gateway fronts: those it listens for. */
export function gatewayFronted(config: BulwarkConfig): string[] {
  return Object.entries(config.services).filter(([, s]) => s.listen !== undefined).map(([name]) => name);
}

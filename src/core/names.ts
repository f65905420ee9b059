/**
 * The name of anything a user names in Bulwark (a service, zone, database,
 * member, agent, repository): letters, digits, "_", "." or "-", starting with a
 * letter or digit, at most 63 characters. The configuration schema, the API and
 * the CLI all check names with this one pattern.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/**
 * The stable name of a service endpoint: its `name`, else `host:port` from its
 * URL. Probes (`service/<svc>/<name>`), the planner and the gateway's pool all
 * key endpoints by it, so a probe result lands on the right pool entry. In core
 * so that a gateway worker process names endpoints without loading config.
 */
export function endpointName(endpoint: { name?: string | undefined; url: string }, index: number): string {
  if (endpoint.name) return endpoint.name;
  try {
    return new URL(endpoint.url.includes('://') ? endpoint.url : `tcp://${endpoint.url}`).host || `endpoint-${index}`;
  } catch {
    return `endpoint-${index}`;
  }
}

import { hostKey } from '../../plan/index.js';
import type { Finding } from '../diagnostics.js';
import type { BulwarkConfig } from '../schema.js';
import { databaseKind, membersPath } from './context.js';

/**
 * A database whose members all sit on one host: replication and failover
 * protect it from a dead server, not from a dead machine. Hosts are compared
 * as the planner compares them (every loopback name is one host; names are not
 * resolved). A warning, since one host is what a laptop or a demo has.
 *
 * Service endpoints on one host are not linted here, on purpose: an endpoint's
 * URL is often not the machine that serves it (a sidecar, a tunnel or a local
 * proxy on 127.0.0.1), and every local setup (`bulwark demo`, the examples,
 * the tests) puts its endpoints on loopback, so the warning would be on almost
 * every file and teach people to skip warnings. `bulwark plan` still counts a
 * shared host in a service's availability and lists it among the single points
 * of failure. A database member's `host` is where the database runs.
 */
export function lintMembersOnOneHost(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  for (const [name, db] of Object.entries(config.databases)) {
    const members = db.postgres?.members ?? db.redis?.members ?? [];
    const [first] = members;
    if (!first || members.length < 2 || members.some((m) => hostKey(m.host) !== hostKey(first.host))) continue;
    const zones = [...new Set(members.flatMap((m) => (m.zone === undefined ? [] : [m.zone])))];
    const zoneNote = zones.length < 2 ? '' :
      ` (they declare zones ${zones.join(', ')}, which one host cannot all be in; \`bulwark plan\` trusts the zones)`;
    out.push({
      severity: 'warning',
      rule: 'lint.members_on_one_host',
      path: membersPath(config, name),
      message: `all ${members.length} members of database ${name} are on host ${first.host}: ` +
        `one host's failure takes the whole database down${zoneNote}`,
      found: `${databaseKind(db)} members on host ${first.host}`,
      expected: 'members on at least two hosts',
      hint: 'put members on other hosts: a replica on a second machine is what survives the loss of this one',
    });
  }
  return out;
}

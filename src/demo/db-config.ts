import { DEMO_DB_MEMBERS, DEMO_DB_NAME, DEMO_DB_USER, type DemoDbMemberName, type DemoDbPorts } from './db-layout.js';

export interface DemoDbConfigInput {
  ports: DemoDbPorts;
  dataDirs: Record<DemoDbMemberName, string>;
  /** The OS user PostgreSQL runs as (set when the demo runs as root). */
  runAs: string | undefined;
  socketDir: string | undefined;
}

/**
 * The bulwark.yaml of `bulwark demo db`: one database, three members on this
 * machine run by the daemon (data_dir), one etcd, synchronous replication, and
 * the gateway's front door that always leads to the primary. The timings are
 * the defaults, written out so that you can see them and try others.
 */
export function demoDbConfigYaml(input: DemoDbConfigInput): string {
  const { ports } = input;
  const members = DEMO_DB_MEMBERS.map((m) =>
    `        - { name: ${m}, host: 127.0.0.1, port: ${ports.members[m]}, data_dir: ${JSON.stringify(input.dataDirs[m])} }`);
  return `# Written by \`bulwark demo db\` at every start: three PostgreSQL members and one
# etcd on this machine, loopback only. Edit it while the demo runs: the daemon
# reloads it (see the README for what applies to running members).
version: 1
name: bulwark-demo-db

api:
  listen: 127.0.0.1:${ports.api}

coordination:
  # One etcd member for the demo; run three on three hosts for real (README, "Running etcd").
  etcd: { endpoints: [http://127.0.0.1:${ports.etcdClient}] }

databases:
  ${DEMO_DB_NAME}:
    description: The demo's PostgreSQL, three members under bulwark's HA loops
    postgres:
      # The front door: a TCP port of the gateway that always leads to the primary.
      listen: 127.0.0.1:${ports.frontDoor}
      # Each commit waits until one standby has it (ANY 1): a failover loses no acknowledged write.
      synchronous: true
      ttl: 10s
      loop_wait: 2s
      retry_timeout: 3s
      superuser: ${DEMO_DB_USER}
      superuser_password: "\${file:pg.pass}"
${input.runAs ? `      # PostgreSQL refuses to run as root: the daemon starts it as this user.\n      run_as: ${input.runAs}\n` : ''}${input.socketDir ? `      socket_dir: ${JSON.stringify(input.socketDir)}\n` : ''}      members:
${members.join('\n')}
`;
}

import { z } from 'zod';
import { boundedDuration, name } from './fields.js';

/**
 * Several `bulwark up` sharing one bulwark.yaml: membership and one lease per
 * singleton duty in etcd (coordination.etcd). Without this section every duty
 * runs in the one daemon, as before.
 */
export const clusterSchema = z.strictObject({
  /** This daemon's member name; `bulwark up --node` overrides it, the host name is the default. */
  member: name().optional(),
  /** The TTL of each duty's and each member's etcd lease: a dead holder's duty moves within about this long. */
  lease_ttl: boundedDuration(120_000)
    .refine((ms) => ms >= 2_000, { message: 'expected at least 2s: a shorter lease leaves no room for one slow etcd call between renewals' })
    .default(10_000),
  /** How other members and operators reach this daemon's API (shown by `bulwark cluster status`); api.listen by default. */
  address: z.string().min(1).optional(),
});

export type ClusterConfig = z.output<typeof clusterSchema>;

/** Where the cluster lives in etcd, under coordination.etcd.prefix. */
export interface ClusterKeys {
  membersPrefix: string;
  member(name: string): string;
  dutiesPrefix: string;
  duty(name: string): string;
}

export function clusterKeys(etcdPrefix: string): ClusterKeys {
  const root = `${etcdPrefix.replace(/\/+$/, '')}/cluster`;
  return {
    membersPrefix: `${root}/members/`,
    member: (name) => `${root}/members/${name}`,
    dutiesPrefix: `${root}/duties/`,
    duty: (name) => `${root}/duties/${name}`,
  };
}

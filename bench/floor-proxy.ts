/**
 * The floor for a Node.js proxy on this machine: a minimal HTTP/1.1 reverse proxy
 * on node:http and undici's dispatch API, round robin over the upstreams, in one
 * cluster worker per core (Node's default round-robin accept). No health checks,
 * retries, limits, metrics or hop-by-hop care beyond Connection/Keep-Alive: what is
 * left is node:http and undici themselves. bench/gateway.ts runs it beside
 * HAProxy and Bulwark so Bulwark's own overhead can be told from Node's.
 *
 *   node --import tsx bench/floor-proxy.ts PORT UPSTREAM_PORT...
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { availableParallelism } from 'node:os';
import { Pool, type Dispatcher } from 'undici';

const [port, ...upstreamPorts] = process.argv.slice(2).map(Number);

function serve(): void {
  const pools = upstreamPorts.map((p) => new Pool(`http://127.0.0.1:${p}`, { headersTimeout: 0 }));
  let next = 0;
  createServer((req, res) => {
    const pool = pools[next++ % pools.length] as Pool;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart(_c, status, headers) {
        delete headers.connection;
        delete headers['keep-alive'];
        res.writeHead(status, headers);
      },
      onResponseData(_c, chunk) {
        res.write(chunk);
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError() {
        if (res.headersSent) res.destroy();
        else res.writeHead(502).end();
      },
    };
    pool.dispatch({ path: req.url ?? '/', method: req.method ?? 'GET', headers: req.headers as Record<string, string>, body: null }, handler);
  }).listen(port, '127.0.0.1');
}

if (cluster.isPrimary) for (let i = 0; i < availableParallelism(); i++) cluster.fork();
else serve();

import type { IncomingMessage, ServerResponse } from 'node:http';
import { healthPaths, internalFailure, toHttp, type HealthRouteOptions, type HttpAnswer } from './http.js';
import type { Health } from './types.js';

/** Answers the health paths; returns false, untouched, for any other request. */
export type NodeHealthHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * A handler for a plain `http.createServer`:
 *
 *   const health = nodeHealthHandler(createHealth({ checks }));
 *   http.createServer((req, res) => { if (health(req, res)) return; app(req, res); });
 */
export function nodeHealthHandler(health: Health, options: HealthRouteOptions = {}): NodeHealthHandler {
  const paths = healthPaths(options);
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== paths.live && path !== paths.ready) return false;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return true;
    }
    if (path === paths.live) {
      send(res, toHttp(health.live()), head);
      return true;
    }
    health.ready().then(
      (answer) => send(res, toHttp(answer), head),
      () => send(res, internalFailure(), head),
    );
    return true;
  };
}

function send(res: ServerResponse, answer: HttpAnswer, head: boolean): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  res.end(head ? undefined : answer.body);
}

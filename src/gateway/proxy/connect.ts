import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { FailureKind } from './types.js';

const TLS_PROTOCOLS = new Set(['https:', 'wss:', 'tls:']);
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'ws:': 80, 'https:': 443, 'wss:': 443 };

export class ConnectError extends Error {
  constructor(
    readonly kind: Extract<FailureKind, 'connect_failure' | 'timeout'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectError';
  }
}

/** Opens a raw TCP (or TLS, by URL scheme) connection, failing after `timeoutMs`. */
export function connectTo(url: URL, timeoutMs: number): Promise<Socket> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || DEFAULT_PORTS[url.protocol] || 0;
  return new Promise((resolve, reject) => {
    const tls = TLS_PROTOCOLS.has(url.protocol);
    const socket: Socket = tls ? tlsConnect({ host, port, servername: host }) : netConnect({ host, port });
    const settle = (err?: ConnectError): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off(tls ? 'secureConnect' : 'connect', onConnect);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        resolve(socket);
      }
    };
    const onConnect = (): void => settle();
    const onError = (err: Error): void => settle(new ConnectError('connect_failure', `connect to ${host}:${port} failed: ${err.message}`, { cause: err }));
    const timer = setTimeout(() => settle(new ConnectError('timeout', `connect to ${host}:${port} timed out after ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', onError);
    socket.once(tls ? 'secureConnect' : 'connect', onConnect);
  });
}

/** Pipes two sockets both ways; an error or close on either side ends both. */
export function splice(a: Duplex, b: Duplex, onEnd: () => void): void {
  let ended = false;
  const close = (): void => {
    if (ended) return;
    ended = true;
    a.destroy();
    b.destroy();
    onEnd();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
  a.pipe(b);
  b.pipe(a);
}

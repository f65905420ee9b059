import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:net';

/** An endpoint: a real node process answering its name, listening on PORT, so it does not share the test's event loop. */
const SERVER = "require('http').createServer((q,s)=>s.end(process.argv[2])).listen(+process.argv[1],'127.0.0.1',()=>process.stdout.write('up\\n'))";

/** Starts an endpoint process (detached: a drill may SIGSTOP or SIGKILL it) and resolves once it listens. */
export function startEndpoint(port: number, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', SERVER, String(port), name], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  child.unref();
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`endpoint ${name} exited ${code}`)));
  });
}

/** Binds `server` on 127.0.0.1:port, rejecting (EADDRINUSE) instead of throwing an uncaught error. */
export function listenOn(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
}

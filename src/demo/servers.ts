import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export interface DemoServerSpec {
  name: string;
  zone: string;
  region: string;
  /** Serves only when no regular endpoint is healthy. */
  backup: boolean;
}

export interface RunningDemoServer extends DemoServerSpec {
  pid: number;
  port: number;
  url: string;
}

/** Three API servers in three zones of us-east-1 and a backup in us-west-2. */
export const DEMO_SERVERS: readonly DemoServerSpec[] = [
  { name: 'api-a', zone: 'us-east-1a', region: 'us-east-1', backup: false },
  { name: 'api-b', zone: 'us-east-1b', region: 'us-east-1', backup: false },
  { name: 'api-c', zone: 'us-east-1c', region: 'us-east-1', backup: false },
  { name: 'api-west', zone: 'us-west-2a', region: 'us-west-2', backup: true },
];

const START_TIMEOUT_MS = 15_000;

/**
 * How to run the server script: the compiled `demo-server.js` beside this file
 * when running from dist, or `demo-server.ts` through the tsx loader from source.
 */
export function demoServerCommand(): { execPath: string; args: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(new URL(fromSource ? './demo-server.ts' : './demo-server.js', import.meta.url));
  if (!existsSync(script)) throw new Error(`demo server script not found at ${script}`);
  const args = fromSource ? ['--import', import.meta.resolve('tsx'), script] : [script];
  return { execPath: process.execPath, args };
}

/** The demo servers of one `bulwark demo`, each its own process; `killAll()` leaves none behind. */
export class DemoServers {
  private readonly children = new Set<ChildProcess>();
  readonly running: RunningDemoServer[] = [];

  constructor(private readonly onExit: (server: RunningDemoServer, signal: string | null, code: number | null) => void = () => undefined) {}

  async startAll(specs: readonly DemoServerSpec[] = DEMO_SERVERS): Promise<RunningDemoServer[]> {
    for (const spec of specs) this.running.push(await this.start(spec));
    return this.running;
  }

  private async start(spec: DemoServerSpec): Promise<RunningDemoServer> {
    const { execPath, args } = demoServerCommand();
    const child = spawn(execPath, [...args, '--name', spec.name, '--zone', spec.zone, '--region', spec.region], {
      // stdin is a pipe the server watches: it exits when we go, even if we are SIGKILLed.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    const ready = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo server ${spec.name} did not start within ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as { port: number; pid: number });
        } catch {
          reject(new Error(`demo server ${spec.name} said ${line}`));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`demo server ${spec.name} exited (${signal ?? code}) before listening: ${stderr}`));
      });
    });
    const running: RunningDemoServer = { ...spec, pid: ready.pid, port: ready.port, url: `http://127.0.0.1:${ready.port}` };
    child.once('exit', (code, signal) => {
      this.children.delete(child);
      this.onExit(running, signal, code);
    });
    return running;
  }

  /** SIGTERM every server, SIGKILL what is left after `graceMs`; resolves when all have exited. */
  async stopAll(graceMs = 2_000): Promise<void> {
    const alive = [...this.children].filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(alive.map((child) => new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    })));
    this.children.clear();
  }

  /** Synchronous, for `process.on('exit')`: SIGKILL whatever is still running. */
  killAll(): void {
    for (const child of this.children) child.kill('SIGKILL');
    this.children.clear();
  }
}

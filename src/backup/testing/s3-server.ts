import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A local S3-compatible server (s3rver) for tests. Credentials are s3rver's fixed ones. */
export interface S3TestServer {
  endpoint: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** SIGKILLs the server but keeps its data, to simulate an outage. */
  kill(): Promise<void>;
  /** Serves again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops and deletes the data. */
  stop(): Promise<void>;
}

// s3rver runs in its own process: its list continuation tokens use DES, which
// OpenSSL 3 only offers with the legacy provider (a process-wide flag).
const SCRIPT = `
const S3rver = require(process.argv[1]);
const server = new S3rver({ address: '127.0.0.1', port: Number(process.argv[2]), directory: process.argv[3], silent: true });
server.run().then((address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'));
process.on('SIGTERM', () => server.close().finally(() => process.exit(0)));
`;

export async function startS3Server(): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'bulwark-s3rver-'));
  let child: ChildProcess | undefined;
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };

  const [first, port] = await spawnS3rver(0, directory);
  child = first;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGKILL');
      [child] = await spawnS3rver(port, directory);
    },
    stop: async () => {
      await halt('SIGTERM');
      await rm(directory, { recursive: true, force: true });
    },
  };
}

async function spawnS3rver(port: number, directory: string): Promise<[ChildProcess, number]> {
  const entry = createRequire(import.meta.url).resolve('s3rver');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', SCRIPT, entry, String(port), directory], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const listening = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening: ${stderr.trim() || 'no output'}`)));
  });
  return [child, listening];
}

import { parentPort } from 'node:worker_threads';
import { collectEvery } from '../repo/worker-gc.js';
import { compressWal, sealWal } from './wal-seal.js';
import type { SealJob, SealReply } from './wal-seal-pool.js';

/**
 * A WAL sealing worker for wal-seal-pool.ts: compresses one WAL file once and
 * seals it for each key, into the caller's shared output buffers when they
 * are large enough (the usual case: no bytes cross threads), else into a new
 * buffer that is transferred back.
 */
const port = parentPort!;
const allocated = collectEvery(32 * 1024 * 1024);

port.on('message', (job: SealJob) => {
  let reply: SealReply;
  try {
    const body = compressWal(job.input);
    const sealed = job.keys.map((key, i) => {
      const out = job.outputs[i] ? Buffer.from(job.outputs[i]!.buffer, job.outputs[i]!.byteOffset, job.outputs[i]!.byteLength) : undefined;
      const result = sealWal(key, job.name, body, out);
      return out && result.buffer === out.buffer ? { length: result.length } : { data: new Uint8Array(result.buffer, result.byteOffset, result.length) };
    });
    reply = { id: job.id, sealed };
    allocated(body.byteLength + job.input.byteLength);
  } catch (err) {
    reply = { id: job.id, error: err instanceof Error ? err.message : String(err) };
  }
  // A small buffer may be a slice of Node's shared pool: only one that owns all its memory moves.
  const transfer = 'sealed' in reply ? reply.sealed.flatMap((s) => ('data' in s && s.data.byteOffset === 0 && s.data.byteLength === s.data.buffer.byteLength && s.data.buffer instanceof ArrayBuffer ? [s.data.buffer] : [])) : [];
  port.postMessage(reply, transfer);
});

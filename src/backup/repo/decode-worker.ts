import { parentPort, workerData } from 'node:worker_threads';
import { DecodeJobs, jobError, type DecodeJob } from './decode-jobs.js';
import { collectEvery } from './worker-gc.js';

/** A decode worker: runs DecodeJobs for the pool in decode-pool.ts, one message at a time, in order. */
const data = workerData as { encryption: Uint8Array; mac: Uint8Array };
const jobs = new DecodeJobs({ encryption: Buffer.from(data.encryption), mac: Buffer.from(data.mac) });
const port = parentPort!;

const allocated = collectEvery(4 * 1024 * 1024);

port.on('message', (message: { id: number; job: DecodeJob }) => {
  try {
    port.postMessage({ id: message.id, result: jobs.run(message.job) });
  } catch (err) {
    port.postMessage({ id: message.id, error: jobError(err) });
  }
  // The buffer read, and about as much again decrypted and decompressed.
  allocated(2 * message.job.data.byteLength);
});

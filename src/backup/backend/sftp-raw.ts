import type { SFTPWrapper } from 'ssh2';
import type { ByteRange } from './types.js';

/**
 * The few SFTP operations ssh2-sftp-client does not offer, on the raw ssh2
 * channel: positioned reads (range reads without fetching the whole file) and
 * pipelined writes followed by fsync.
 */

function openFile(sftp: SFTPWrapper, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => sftp.open(path, 'r', (err, handle) => (err ? reject(err) : resolve(handle))));
}

function closeFile(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  return new Promise((resolve) => sftp.close(handle, () => resolve()));
}

function fileSize(sftp: SFTPWrapper, handle: Buffer): Promise<number> {
  return new Promise((resolve, reject) => sftp.fstat(handle, (err, stats) => (err ? reject(err) : resolve(stats.size))));
}

function readInto(sftp: SFTPWrapper, handle: Buffer, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    sftp.read(handle, buffer, offset, length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead))),
  );
}

/** Up to `range.length` bytes from `range.offset` (fewer at the end of the file), read in pipelined chunks. */
export async function readRange(sftp: SFTPWrapper, path: string, range: ByteRange): Promise<Buffer> {
  const handle = await openFile(sftp, path);
  try {
    const size = await fileSize(sftp, handle);
    const buffer = Buffer.alloc(Math.max(0, Math.min(range.length, size - range.offset)));
    let filled = buffer.length;
    await inChunks(buffer.length, async (start, length) => {
      for (let done = 0; done < length; ) {
        const bytesRead = await readInto(sftp, handle, buffer, start + done, length - done, range.offset + start + done);
        if (bytesRead === 0) {
          filled = Math.min(filled, start + done); // the file is shorter than fstat said
          return;
        }
        done += bytesRead;
      }
    });
    return buffer.subarray(0, filled);
  } finally {
    await closeFile(sftp, handle);
  }
}

const CHUNK = 32 * 1024;
const IN_FLIGHT = 32;

/** Runs `fn` over 32 KiB chunks of `total` bytes, several in flight: one at a time would cost a round trip each. */
async function inChunks(total: number, fn: (offset: number, length: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const offset = next;
      next += CHUNK;
      await fn(offset, Math.min(CHUNK, total - offset));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

/**
 * Writes `data` as a new file, then fsyncs it (fsync@openssh.com, skipped
 * on servers without it) so the rename that follows publishes durable bytes.
 */
export async function writeFileSynced(sftp: SFTPWrapper, path: string, data: Buffer, mode: number): Promise<void> {
  const handle = await new Promise<Buffer>((resolve, reject) =>
    sftp.open(path, 'w', { mode }, (err, h) => (err ? reject(err) : resolve(h))),
  );
  try {
    await inChunks(data.length, (offset, length) =>
      new Promise<void>((resolve, reject) => sftp.write(handle, data, offset, length, offset, (err) => (err ? reject(err) : resolve()))),
    );
    await fsync(sftp, handle);
  } finally {
    await closeFile(sftp, handle);
  }
}

function fsync(sftp: SFTPWrapper, handle: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      sftp.ext_openssh_fsync(handle, (err) => (err ? reject(err) : resolve()));
    } catch {
      resolve(); // the server does not offer fsync@openssh.com
    }
  });
}

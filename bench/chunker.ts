/**
 * Content-defined chunker throughput on one core.
 *
 *   npx tsx bench/chunker.ts [--mib 512] [--runs 3]
 *
 * Chunks MiB of random data with the default sizes (512 KiB / 1 MiB / 8 MiB)
 * three ways: one-shot over the whole buffer (the tight loop), streamed in
 * 1 MiB pushes (as a file reader would feed it; chunks spanning pushes are
 * copied), and with minSize 64 so that nearly every byte is hashed (the raw
 * gear-hash rate, without FastCDC's skip). Prints the median MiB/s of the runs
 * and chunk size statistics. Goal: >= 1 GB/s one-shot, so that chunking is a
 * small share of a 200 MiB/s backup pipeline.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Chunker, chunkBuffer, gearTable, type ChunkerParams } from '../src/backup/chunker/index.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '512' }, runs: { type: 'string', default: '3' } } });
const MiB = 1024 * 1024;
const totalMiB = Number(values.mib);
const runs = Number(values.runs);

const gear = gearTable(randomBytes(32));
const data = randomBytes(totalMiB * MiB);

function streamed(params: Partial<ChunkerParams>): number[] {
  const chunker = new Chunker(params, gear);
  const sizes: number[] = [];
  for (let at = 0; at < data.length; at += MiB) {
    for (const c of chunker.push(data.subarray(at, at + MiB))) sizes.push(c.length);
  }
  const last = chunker.finish();
  if (last) sizes.push(last.length);
  return sizes;
}

function oneShot(params: Partial<ChunkerParams>): number[] {
  return chunkBuffer(data, params, gear).map((c) => c.length);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function measure(name: string, run: () => number[]): number[] {
  let sizes: number[] = [];
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    sizes = run();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push(totalMiB / seconds);
  }
  const shown = rates.map((r) => r.toFixed(0)).join(', ');
  console.log(`${name.padEnd(34)} ${median(rates).toFixed(0).padStart(6)} MiB/s  (runs: ${shown})`);
  return sizes;
}

const kib = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;

console.log(`chunking ${totalMiB} MiB of random data, ${runs} runs each, node ${process.version}`);
const sizes = measure('one-shot, default sizes', () => oneShot({}));
measure('streamed in 1 MiB pushes', () => streamed({}));
measure('one-shot, minSize 64 (raw hashing)', () => oneShot({ minSize: 64 }));

const body = sizes.slice(0, -1);
const mean = body.reduce((a, b) => a + b, 0) / body.length;
console.log(
  `chunks: ${sizes.length}; sizes (last excluded): median ${kib(median(body))}, mean ${kib(mean)}, ` +
    `min ${kib(Math.min(...body))}, max ${kib(Math.max(...body))}`,
);

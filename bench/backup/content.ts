/**
 * Deterministic content for the backup benchmark: a small seeded PRNG for
 * decisions, an AES-256-CTR keystream for incompressible bytes, and a
 * pseudo-prose generator (seeded words from a generated vocabulary) that
 * compresses roughly like text or logs.
 */
import { createCipheriv, createHash, type Cipher } from 'node:crypto';

export type Kind = 'binary' | 'text';

/** sfc32: small, fast, good enough for benchmark decisions and word picks. */
export class Rng {
  private readonly s = new Int32Array(4);

  constructor(label: string) {
    const h = createHash('sha256').update(label).digest();
    for (let i = 0; i < 4; i++) this.s[i] = h.readInt32LE(i * 4);
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const s = this.s;
    const a = s[0] as number;
    const b = s[1] as number;
    const c = s[2] as number;
    const d = s[3] as number;
    const t = (a + b + d) | 0;
    s[3] = d + 1;
    s[0] = b ^ (b >>> 9);
    s[1] = c + (c << 3);
    s[2] = ((c << 21) | (c >>> 11)) + t;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}

/** Incompressible bytes: AES-256-CTR keystream keyed by the label. */
export class NoiseSource {
  private readonly cipher: Cipher;
  private readonly zeros = Buffer.alloc(1 << 20);

  constructor(label: string) {
    const key = createHash('sha256').update(`noise:${label}`).digest();
    this.cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }

  /** The next `n` keystream bytes (a fresh Buffer). */
  take(n: number): Buffer {
    if (n <= this.zeros.length) return this.cipher.update(this.zeros.subarray(0, n));
    return this.cipher.update(Buffer.alloc(n));
  }
}

const VOCAB_SIZE = 4096;
const SYLLABLES = ['ka', 'to', 're', 'mi', 'an', 'sel', 'or', 'ut', 'pri', 'den', 'lo', 'ver', 'is', 'ba', 'ten', 'gu', 'na', 'ex', 'po', 'li', 'cor', 'me', 'st', 'al', 'fi', 'ro', 'qua', 'ne', 'di', 'um', 'ha', 'zo'];

interface Vocabulary { bytes: Buffer; offsets: Uint32Array; lengths: Uint8Array; successor: Uint16Array }

let vocabulary: Vocabulary | undefined;

/** A fixed vocabulary of pseudo-words (the same for every seed), 1-4 syllables. */
function vocab(): Vocabulary {
  if (vocabulary) return vocabulary;
  const rng = new Rng('vocabulary');
  const words: string[] = [];
  const seen = new Set<string>();
  while (words.length < VOCAB_SIZE) {
    const n = 1 + Math.min(3, Math.floor(-Math.log2(rng.next() + 1e-9) * 0.8));
    let w = '';
    for (let i = 0; i < n; i++) w += SYLLABLES[rng.u32() % SYLLABLES.length];
    if (!seen.has(w)) { seen.add(w); words.push(w); }
  }
  const bytes = Buffer.from(words.join(''), 'latin1');
  const offsets = new Uint32Array(VOCAB_SIZE);
  const lengths = new Uint8Array(VOCAB_SIZE);
  let off = 0;
  words.forEach((w, i) => { offsets[i] = off; lengths[i] = w.length; off += w.length; });
  const successor = new Uint16Array(VOCAB_SIZE).map((_, i) => (i + 1 + (rng.u32() % (VOCAB_SIZE - 1))) % VOCAB_SIZE);
  vocabulary = { bytes, offsets, lengths, successor };
  return vocabulary;
}

const SEP_COMMA = 0x2c;
const SEP_DOT = 0x2e;
const SPACE = 0x20;
const NEWLINE = 0x0a;
const MAX_WORD = 24;
/** Out of 16: how often the next word is the previous word's fixed successor (repeated phrases, like log templates). */
const FOLLOW = 8;

/** Pseudo-prose: Zipf-like word picks, commas, sentences and lines of varying length. */
export class TextSource {
  private readonly rng: Rng;
  private readonly v = vocab();
  private carry = Buffer.alloc(0);
  private lineLeft = 0;
  private prev = 0;

  constructor(label: string) {
    this.rng = new Rng(`text:${label}`);
  }

  /** The next `n` bytes of text (a fresh Buffer). */
  take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n + MAX_WORD * 2);
    let pos = this.carry.copy(out, 0);
    pos = this.fill(out, pos, n);
    this.carry = Buffer.from(out.subarray(n, pos));
    return out.subarray(0, n);
  }

  private fill(out: Buffer, start: number, n: number): number {
    const { bytes, offsets, lengths, successor } = this.v;
    const rng = this.rng;
    let pos = start;
    let idx = this.prev;
    while (pos < n) {
      const r = rng.u32();
      const u = (r & 0xfff) / 4096;
      idx = ((r >>> 12) & 15) < FOLLOW ? (successor[idx] as number) : Math.floor(VOCAB_SIZE * u * u);
      const off = offsets[idx] as number;
      const len = lengths[idx] as number;
      for (let i = 0; i < len; i++) out[pos + i] = bytes[off + i] as number;
      pos += len;
      const sep = (r >>> 16) & 0xff;
      if (--this.lineLeft <= 0) {
        out[pos++] = sep < 128 ? SEP_DOT : SEP_COMMA;
        out[pos++] = NEWLINE;
        this.lineLeft = 4 + ((r >>> 24) & 15);
      } else if (sep < 16) {
        out[pos++] = SEP_COMMA;
        out[pos++] = SPACE;
      } else if (sep < 28) {
        out[pos++] = SEP_DOT;
        out[pos++] = SPACE;
      } else {
        out[pos++] = SPACE;
      }
    }
    this.prev = idx;
    return pos;
  }
}

/** Either source, by kind. */
export function sourceFor(kind: Kind, label: string): { take(n: number): Buffer } {
  return kind === 'text' ? new TextSource(label) : new NoiseSource(label);
}

import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBlob, encodeBlob } from './blob-codec.js';
import { seal } from './crypto.js';
import { decodePackHeader, PackBuilder } from './pack.js';

const keys = { encryption: Buffer.alloc(32, 3), mac: Buffer.alloc(32, 4) };

describe('pack assembly', () => {
  it('names a pack by the SHA-256 of its bytes, whether its buffer was handed in, reused or grown', () => {
    const blobs = [randomBytes(10), randomBytes(100_000), Buffer.from('text '.repeat(50_000)), randomBytes(300_000)].map((data) => encodeBlob(keys, 'data', data, 'auto'));
    const reused = Buffer.alloc(64 * 1024, 0xee); // too small: the builder grows past it
    for (const builder of [new PackBuilder(), new PackBuilder(reused), new PackBuilder(Buffer.allocUnsafeSlow(4 * 1024 * 1024))]) {
      for (const blob of blobs) builder.add(blob);
      const pack = builder.finish(keys.encryption);
      expect(pack.id).toBe(createHash('sha256').update(pack.bytes).digest('hex'));
      expect(decodePackHeader(keys.encryption, pack.bytes, pack.id).map((e) => [e.id, e.offset, e.length])).toEqual(pack.entries.map((e) => [e.id, e.offset, e.length]));
      // The header also reads from the tail alone, given the length of the whole.
      const tail = pack.bytes.subarray(pack.entries.at(-1)!.offset);
      expect(decodePackHeader(keys.encryption, tail, pack.id, pack.bytes.length)).toHaveLength(blobs.length);
    }
  });

  it('takes a blob in pieces (nonce, ciphertext, tag) as if it were whole', () => {
    const data = randomBytes(5_000);
    const whole = encodeBlob(keys, 'data', data, 'off');
    const sealed = whole.sealed as Buffer;
    const a = new PackBuilder();
    a.add(whole);
    const b = new PackBuilder();
    b.add({ ...whole, sealed: [sealed.subarray(0, 12), sealed.subarray(12, sealed.length - 16), sealed.subarray(sealed.length - 16)] });
    const packA = a.finish(keys.encryption);
    const packB = b.finish(keys.encryption);
    expect(packB.bytes.subarray(0, sealed.length).equals(packA.bytes.subarray(0, sealed.length))).toBe(true);
    expect(packB.entries[0]).toMatchObject({ length: sealed.length, offset: 0 });
    expect(decodeBlob(keys, whole.id, packB.bytes.subarray(0, sealed.length), false)).toEqual(data);
  });

  it('decodes into a reused scratch buffer, and still refuses damage', () => {
    const scratch = { buffer: Buffer.alloc(0) };
    const text = Buffer.from('line of text\n'.repeat(20_000));
    for (const data of [randomBytes(70_000), text, randomBytes(200_000), Buffer.alloc(0)]) {
      const blob = encodeBlob(keys, 'data', data, 'auto');
      expect(decodeBlob(keys, blob.id, blob.sealed as Buffer, blob.compressed, blob.rawLength, scratch).equals(data)).toBe(true);
    }
    const blob = encodeBlob(keys, 'data', randomBytes(100_000), 'off');
    const damaged = Buffer.from(blob.sealed as Buffer);
    damaged[500] = damaged[500]! ^ 1;
    expect(() => decodeBlob(keys, blob.id, damaged, false, blob.rawLength, scratch)).toThrow(/failed authentication/);
    expect(() => decodeBlob(keys, 'ab'.repeat(32), seal(keys.encryption, Buffer.from('x')), false, 1, scratch)).toThrow(/content address/);
  });
});

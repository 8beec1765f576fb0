import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAudio, encodeAudio, AUDIO_ENCODINGS } from '../../src/audio/codec.js';
import { decodeG711, encodeG711 } from '../../src/audio/g711.js';
import { AudioFormatError, bytesFromPcm16 } from '../../src/audio/pcm.js';

const sine = Int16Array.from({ length: 800 }, (_, i) => Math.round(20000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));

describe('G.711', () => {
  it('uses the standard silence codes (mu-law 0xFF, a-law 0xD5)', () => {
    assert.deepEqual(Array.from(encodeG711(Int16Array.of(0), 'mulaw')), [0xff]);
    assert.deepEqual(Array.from(encodeG711(Int16Array.of(0), 'alaw')), [0xd5]);
    assert.equal(decodeG711(Uint8Array.of(0xff), 'mulaw')[0], 0);
  });

  for (const law of ['mulaw', 'alaw'] as const) {
    it(`${law}: one byte per sample, round trip within companding error`, () => {
      const bytes = encodeG711(sine, law);
      assert.equal(bytes.length, sine.length);
      const back = decodeG711(bytes, law);
      assert.equal(back.length, sine.length);
      for (let i = 0; i < sine.length; i++) {
        // Logarithmic quantization: the step grows with the magnitude, at most ~1/16 of it.
        assert.ok(Math.abs(back[i]! - sine[i]!) <= Math.abs(sine[i]!) / 16 + 16, `sample ${i}: ${sine[i]} -> ${back[i]}`);
      }
    });

    it(`${law}: decoding is stable (decode(encode(decode(x))) = decode(x))`, () => {
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const decoded = decodeG711(all, law);
      assert.deepEqual(decodeG711(encodeG711(decoded, law), law), decoded);
    });

    it(`${law}: survives full-scale extremes`, () => {
      const back = decodeG711(encodeG711(Int16Array.of(-32768, 32767), law), law);
      assert.ok(back[0]! < -30000 && back[1]! > 30000);
    });
  }
});

describe('codec', () => {
  it('lists the encodings', () => {
    assert.deepEqual([...AUDIO_ENCODINGS], ['pcm16', 'mulaw', 'alaw']);
  });

  it('pcm16 is little-endian bytes', () => {
    assert.deepEqual(encodeAudio(sine, 'pcm16'), bytesFromPcm16(sine));
    assert.deepEqual(decodeAudio(bytesFromPcm16(sine), 'pcm16'), sine);
    assert.throws(() => decodeAudio(new Uint8Array(5), 'pcm16'), AudioFormatError);
  });

  it('dispatches mulaw and alaw to G.711', () => {
    for (const law of ['mulaw', 'alaw'] as const) {
      assert.deepEqual(encodeAudio(sine, law), encodeG711(sine, law));
      const bytes = encodeG711(sine, law);
      assert.deepEqual(decodeAudio(bytes, law), decodeG711(bytes, law));
    }
  });
});

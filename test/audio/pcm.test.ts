import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AudioFormatError, bytesFromPcm16, durationMs, pcm16FromBytes, rmsDbfs, SILENCE_DBFS } from '../../src/audio/pcm.js';

describe('pcm16FromBytes / bytesFromPcm16', () => {
  it('reads and writes little-endian samples', () => {
    const bytes = Uint8Array.of(0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f);
    assert.deepEqual(Array.from(pcm16FromBytes(bytes)), [1, -1, -32768, 32767]);
    assert.deepEqual(bytesFromPcm16(Int16Array.of(1, -1, -32768, 32767)), bytes);
  });

  it('round-trips', () => {
    const pcm = Int16Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 65536) - 32768);
    assert.deepEqual(pcm16FromBytes(bytesFromPcm16(pcm)), pcm);
  });

  it('works on a view at an odd byte offset', () => {
    const backing = new Uint8Array(9);
    backing.set([0x34, 0x12, 0xfe, 0xff], 3);
    const view = backing.subarray(3, 7);
    assert.equal(view.byteOffset % 2, 1);
    assert.deepEqual(Array.from(pcm16FromBytes(view)), [0x1234, -2]);
  });

  it('copies, so later writes to the bytes do not change the samples', () => {
    const bytes = Uint8Array.of(1, 0);
    const pcm = pcm16FromBytes(bytes);
    bytes[0] = 9;
    assert.equal(pcm[0], 1);
  });

  it('rejects an odd number of bytes with AudioFormatError', () => {
    assert.throws(() => pcm16FromBytes(new Uint8Array(3)), (error: unknown) => {
      assert.ok(error instanceof AudioFormatError);
      assert.ok(error instanceof Error);
      assert.equal(error.message, 'PCM16 audio must hold whole 2-byte samples; got 3 bytes');
      return true;
    });
  });

  it('handles empty input', () => {
    assert.equal(pcm16FromBytes(new Uint8Array(0)).length, 0);
    assert.equal(bytesFromPcm16(new Int16Array(0)).length, 0);
  });
});

describe('durationMs', () => {
  it('converts samples to milliseconds', () => {
    assert.equal(durationMs(16000, 16000), 1000);
    assert.equal(durationMs(160, 8000), 20);
    assert.equal(durationMs(441, 44100), 10);
    assert.equal(durationMs(0, 48000), 0);
  });

  it('rejects a non-positive rate', () => {
    assert.throws(() => durationMs(10, 0), RangeError);
  });
});

describe('rmsDbfs', () => {
  it('is 0 dBFS at full scale and about 0 for a full-scale square wave', () => {
    assert.ok(Math.abs(rmsDbfs(new Int16Array(100).fill(-32768))) < 1e-9);
    const square = Int16Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? -32768 : 32767));
    assert.ok(Math.abs(rmsDbfs(square)) < 0.001);
  });

  it('is about -3 dBFS for a full-scale sine and 6 dB less at half amplitude', () => {
    const sine = (amplitude: number) => Int16Array.from({ length: 16000 }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    assert.ok(Math.abs(rmsDbfs(sine(32767)) - -3.01) < 0.05);
    assert.ok(Math.abs(rmsDbfs(sine(16384)) - -9.03) < 0.05);
  });

  it('is SILENCE_DBFS for silence and for no samples', () => {
    assert.equal(rmsDbfs(new Int16Array(160)), SILENCE_DBFS);
    assert.equal(rmsDbfs(new Int16Array(0)), SILENCE_DBFS);
    assert.ok(Number.isFinite(SILENCE_DBFS));
  });
});

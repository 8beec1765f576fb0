import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import wavefile from 'wavefile';
import { AudioFormatError } from '../../src/audio/pcm.js';
import { readWav, readWavAs, writeWav } from '../../src/audio/wav.js';

const RATE_HZ = 16000;
/** 440 Hz at half scale: in range for every bit depth, away from clipping. */
const tone = Int16Array.from({ length: 1600 }, (_, i) => Math.round(16000 * Math.sin((2 * Math.PI * 440 * i) / RATE_HZ)));

function wavOf(channels: number, rateHz: number, bitDepth: string, samples: ArrayLike<number> | ArrayLike<number>[]): Uint8Array {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(channels, rateHz, bitDepth, samples);
  return wav.toBuffer();
}

/**
 * wavefile writes a 40-byte extensible fmt chunk for more than two channels but leaves the plain
 * format tag in it; set the tags as real WAVE_FORMAT_EXTENSIBLE writers do (the real tag moves to
 * the first bytes of the subformat GUID, at byte 44).
 */
function extensible(bytes: Uint8Array, subformatTag: number): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.getUint32(16, true), 40, 'fmt chunk size');
  view.setUint16(20, 0xfffe, true);
  view.setUint32(44, subformatTag, true);
  return bytes;
}

function maxDiff(a: Int16Array, b: Int16Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('writeWav / readWav', () => {
  it('round-trips 16-bit mono exactly', () => {
    const bytes = writeWav(tone, RATE_HZ);
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), 'RIFF');
    assert.equal(bytes.length, 44 + tone.length * 2);
    const { pcm, sampleRateHz } = readWav(bytes);
    assert.equal(sampleRateHz, RATE_HZ);
    assert.deepEqual(pcm, tone);
  });

  it('reads a WAV held in a Buffer slice (non-zero byteOffset)', () => {
    const bytes = writeWav(tone, RATE_HZ);
    const backing = Buffer.alloc(bytes.length + 3);
    backing.set(bytes, 3);
    assert.deepEqual(readWav(backing.subarray(3)).pcm, tone);
  });

  it('reads 8-bit unsigned', () => {
    const samples = Array.from(tone, (s) => Math.round(s / 256) + 128);
    assert.ok(maxDiff(readWav(wavOf(1, RATE_HZ, '8', samples)).pcm, tone) <= 128);
  });

  it('reads 24-bit', () => {
    const samples = Array.from(tone, (s) => s * 256 + 17);
    assert.ok(maxDiff(readWav(wavOf(1, RATE_HZ, '24', samples)).pcm, tone) <= 1);
  });

  it('reads 32-bit integer', () => {
    const samples = Array.from(tone, (s) => s * 65536 - 5);
    assert.ok(maxDiff(readWav(wavOf(1, RATE_HZ, '32', samples)).pcm, tone) <= 1);
  });

  it('reads 32-bit and 64-bit float', () => {
    const samples = Array.from(tone, (s) => s / 32768);
    assert.ok(maxDiff(readWav(wavOf(1, RATE_HZ, '32f', samples)).pcm, tone) <= 1);
    assert.ok(maxDiff(readWav(wavOf(1, RATE_HZ, '64', samples)).pcm, tone) <= 1);
  });

  it('clips out-of-range float samples', () => {
    assert.deepEqual(Array.from(readWav(wavOf(1, RATE_HZ, '32f', [1.5, -1.5, 1])).pcm), [32767, -32768, 32767]);
  });

  for (const law of ['mulaw', 'alaw'] as const) {
    it(`reads ${law} WAV`, () => {
      const wav = new wavefile.WaveFile();
      wav.fromScratch(1, 8000, '16', tone);
      if (law === 'mulaw') wav.toMuLaw();
      else wav.toALaw();
      const { pcm, sampleRateHz } = readWav(wav.toBuffer());
      assert.equal(sampleRateHz, 8000);
      assert.ok(maxDiff(pcm, tone) <= 16000 / 16 + 16);
    });
  }

  it('rejects an encoding it does not decode (IMA ADPCM) by name', () => {
    const wav = new wavefile.WaveFile();
    wav.fromScratch(1, 8000, '16', tone);
    wav.toIMAADPCM();
    assert.throws(() => readWav(wav.toBuffer()), (error: unknown) => {
      assert.ok(error instanceof AudioFormatError);
      assert.equal(error.message, 'unsupported WAV encoding: format tag 17 with 4 bits per sample');
      return true;
    });
  });

  it('mixes stereo down to mono', () => {
    const left = Int16Array.from(tone);
    const right = Int16Array.from(tone, (s) => -s);
    assert.deepEqual(Array.from(readWav(wavOf(2, RATE_HZ, '16', [left, right])).pcm), new Array<number>(tone.length).fill(0));
    const { pcm } = readWav(wavOf(2, 44100, '16', [tone, tone]));
    assert.deepEqual(pcm, tone);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE files (more than two channels), integer or float', () => {
    const threeChannels = [tone, tone, tone];
    assert.deepEqual(readWav(extensible(wavOf(3, RATE_HZ, '16', threeChannels), 1)).pcm, tone);
    const floats = threeChannels.map((channel) => Float32Array.from(channel, (s) => s / 32768));
    assert.ok(maxDiff(readWav(extensible(wavOf(3, RATE_HZ, '32f', floats), 3)).pcm, tone) <= 1);
  });

  it('rejects non-WAV input with a clear AudioFormatError', () => {
    const inputs = [new Uint8Array(0), new TextEncoder().encode('ID3\x03 this is an mp3'), new TextEncoder().encode('RIFF\x10\x00\x00\x00AVI LIST')];
    for (const input of inputs) {
      assert.throws(() => readWav(input), (error: unknown) => {
        assert.ok(error instanceof AudioFormatError);
        assert.match(error.message, /^not a WAV file: /);
        return true;
      });
    }
  });

  it('rejects a RIFF/WAVE file without a data chunk', () => {
    const truncated = writeWav(tone, RATE_HZ).subarray(0, 36);
    assert.throws(() => readWav(truncated), (error: unknown) => error instanceof AudioFormatError && /^not a WAV file: /.test(error.message));
  });
});

describe('readWavAs', () => {
  it('reads and resamples to the target rate', async () => {
    const pcm = await readWavAs(writeWav(tone, RATE_HZ), 8000);
    assert.ok(Math.abs(pcm.length - tone.length / 2) <= 2, `length ${pcm.length}`);
  });

  it('returns the samples as they are at the file rate', async () => {
    assert.deepEqual(await readWavAs(writeWav(tone, RATE_HZ), RATE_HZ), tone);
  });
});

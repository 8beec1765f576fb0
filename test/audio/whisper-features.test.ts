import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RealFft } from '../../src/audio/real-fft.js';
import {
  hzToMelSlaney,
  melToHzSlaney,
  slaneyMelFilters,
  SMART_TURN_FRAMES,
  SMART_TURN_WINDOW_SAMPLES,
  WHISPER_MELS,
  WhisperFeatures,
} from '../../src/audio/whisper-features.js';

const RATE = 16000;

function tone(hz: number, seconds: number, amplitude = 0.3): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * RATE) }, (_, n) => amplitude * Math.sin((2 * Math.PI * hz * n) / RATE));
}

/** The mel bin with the most energy in frame `f` of features [80 × frames]. */
function loudestMel(features: Float32Array, frames: number, f: number): number {
  let best = 0;
  for (let m = 1; m < WHISPER_MELS; m++) if (features[m * frames + f]! > features[best * frames + f]!) best = m;
  return best;
}

let extractor: WhisperFeatures;
before(async () => {
  extractor = await WhisperFeatures.create();
});
after(() => extractor.dispose());

describe('the Slaney mel scale', () => {
  test('1 kHz is 15 mels, and each factor 6.4 above it adds 27 mels', () => {
    assert.equal(hzToMelSlaney(1000), 15);
    assert.ok(Math.abs(hzToMelSlaney(6400) - 42) < 1e-9);
    assert.ok(Math.abs(hzToMelSlaney(200) - 3) < 1e-9, 'linear below 1 kHz: 3 mels per 200 Hz');
    for (const hz of [0, 150, 999, 1000, 3000, 8000]) assert.ok(Math.abs(melToHzSlaney(hzToMelSlaney(hz)) - hz) < 1e-6, `round trip at ${hz} Hz`);
  });

  test('each filter has unit area in Hz (Slaney normalisation) once it spans several bins', () => {
    const filters = slaneyMelFilters(201, 80, 0, 8000, RATE);
    assert.equal(filters.length, 80);
    for (const [m, filter] of filters.entries()) {
      if (filter.weights.length < 8) continue; // narrow triangles are sampled too coarsely by 40 Hz bins
      const areaHz = filter.weights.reduce((a, w) => a + w * 40, 0);
      assert.ok(Math.abs(areaHz - 1) < 0.05, `filter ${m}: area ${areaHz}`);
    }
  });
});

describe('the real FFT', () => {
  test('a cosine on bin 25 of a 400-point FFT puts (N/2)² = 40000 into that bin and nothing elsewhere', async () => {
    const fft = await RealFft.create(400);
    const frame = Float32Array.from({ length: 400 }, (_, n) => Math.cos((2 * Math.PI * 25 * n) / 400));
    const power = new Float64Array(201);
    fft.powerSpectrum(frame, power);
    fft.dispose();
    assert.ok(Math.abs(power[25]! - 40000) < 1, `bin 25: ${power[25]}`);
    for (let k = 0; k < 201; k++) if (k !== 25) assert.ok(power[k]! < 1e-3, `bin ${k}: ${power[k]}`);
  });
});

describe('Whisper log-mel features', () => {
  test('a pure tone at the centre of mel filter m lands in filter m', () => {
    // Centre of filter m: corner m + 1 of 82 corners evenly spaced in mel from 0 to mel(8000 Hz);
    // there the neighbouring triangles are zero, so m alone can be the loudest.
    const centreHz = (m: number) => melToHzSlaney(((m + 1) * hzToMelSlaney(8000)) / 81);
    const frames = RATE / 160;
    for (const m of [8, 26, 50, 72]) {
      const features = extractor.compute(tone(centreHz(m), 1));
      assert.equal(loudestMel(features, frames, 50), m, `${centreHz(m).toFixed(0)} Hz`);
    }
    assert.ok(Math.abs(centreHz(26) - 1000) < 20, 'filter 26 is the one around 1 kHz (15 mels)');
  });

  test('equals a direct float64 DFT with a dense filter matrix, computed independently here', () => {
    const audio = new Float32Array(RATE); // 1 s: a chirp plus a little noise, for a busy spectrum
    let seed = 7;
    for (let n = 0; n < audio.length; n++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      audio[n] = 0.4 * Math.sin(2 * Math.PI * (200 + 3000 * (n / RATE)) * (n / RATE)) + 0.01 * (seed / 0x1_0000_0000 - 0.5);
    }
    const ours = extractor.compute(audio);
    const reference = referenceFeatures(audio);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - reference[i]!));
    assert.ok(worst < 1e-3, `largest difference ${worst}`);
  });

  test('8 s window: the newest audio is at the end, zeros in front; longer audio keeps its last 8 s', () => {
    const short = new Int16Array(RATE).fill(1000);
    const windowed = WhisperFeatures.window8s(short);
    assert.equal(windowed.length, SMART_TURN_WINDOW_SAMPLES);
    assert.equal(windowed[SMART_TURN_WINDOW_SAMPLES - RATE - 1], 0);
    assert.equal(windowed[SMART_TURN_WINDOW_SAMPLES - RATE], 1000 / 32768);
    const long = new Int16Array(10 * RATE);
    long[2 * RATE] = 5; // the first sample of the last 8 s
    long[2 * RATE - 1] = 9; // cut
    const kept = WhisperFeatures.window8s(long);
    assert.equal(kept[0], 5 / 32768);
    assert.ok(!kept.includes(9 / 32768));
  });

  test('speech at the end of the turn shows in the last frames of the 800', () => {
    const pcm = new Int16Array(2 * RATE);
    const t = tone(2000, 1, 0.5);
    for (let i = 0; i < t.length; i++) pcm[RATE + i] = Math.round(t[i]! * 32767);
    const features = extractor.compute(WhisperFeatures.window8s(pcm));
    assert.equal(features.length, WHISPER_MELS * SMART_TURN_FRAMES);
    const frames = SMART_TURN_FRAMES;
    const mel = loudestMel(features, frames, frames - 50);
    assert.ok(features[mel * frames + frames - 50]! > features[mel * frames + frames - 150]! + 1, 'loud in the last second, quiet before');
  });
});

/** The same pipeline written the plain way: float64, a direct DFT per frame, a dense numpy-style filter matrix. */
function referenceFeatures(audio: Float32Array): Float32Array {
  const n = audio.length;
  const mean = audio.reduce((a, v) => a + v, 0) / n;
  const variance = audio.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
  const x = Array.from(audio, (v) => (v - mean) / Math.sqrt(variance + 1e-7));
  const padded = [...x.slice(1, 201).reverse(), ...x, ...x.slice(n - 201, n - 1).reverse()];
  const frames = 1 + Math.floor((padded.length - 400) / 160);
  // numpy's _build_mel_filterbank: slopes between each bin frequency and each corner frequency.
  const melMax = hzToMelSlaney(8000);
  const corners = Array.from({ length: 82 }, (_, i) => melToHzSlaney((melMax * i) / 81));
  const fftHz = Array.from({ length: 201 }, (_, k) => (8000 * k) / 200);
  const dense = Array.from({ length: 80 }, (_, m) =>
    fftHz.map((hz) => {
      const down = (hz - corners[m]!) / (corners[m + 1]! - corners[m]!);
      const up = (corners[m + 2]! - hz) / (corners[m + 2]! - corners[m + 1]!);
      return Math.max(0, Math.min(down, up)) * (2 / (corners[m + 2]! - corners[m]!));
    }),
  );
  const logMel: number[][] = Array.from({ length: 80 }, () => []);
  for (let f = 0; f < frames; f++) {
    const power: number[] = [];
    for (let k = 0; k <= 200; k++) {
      let re = 0;
      let im = 0;
      for (let i = 0; i < 400; i++) {
        const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 400);
        const v = padded[f * 160 + i]! * w;
        re += v * Math.cos((2 * Math.PI * k * i) / 400);
        im -= v * Math.sin((2 * Math.PI * k * i) / 400);
      }
      power.push(re * re + im * im);
    }
    for (let m = 0; m < 80; m++) logMel[m]!.push(Math.log10(Math.max(1e-10, dense[m]!.reduce((a, w, k) => a + w * power[k]!, 0))));
  }
  const kept = logMel.map((row) => row.slice(0, frames - 1));
  const max = Math.max(...kept.flat());
  return Float32Array.from(kept.flat(), (v) => (Math.max(v, max - 8) + 4) / 4);
}

/**
 * Phone audio (8 kHz) reaches the engines that take it as it is, without a resampler per call;
 * engines that cannot get it resampled, one resampler feeding both when they want the same rate.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inputRoute, ListeningInput } from '../../src/core/input-rates.js';
import { VoiceActivity } from '../../src/core/voice-activity.js';
import type { AsrStream, SpeechRecognizer, VadStream, VoiceActivityDetector } from '../../src/providers/types.js';

const FRAME_MS = 32;

/** A recognizer at 16 kHz that takes the listed rates as they are (none: only 16 kHz). */
function recognizer(takes: number[] | null): SpeechRecognizer {
  return {
    sampleRateHz: 16000,
    ...(takes ? { takesRate: (rateHz: number) => takes.includes(rateHz) } : {}),
    stream: () => ({}) as AsrStream,
  };
}

/** An energy VAD at 16 kHz (32 ms frames) that takes the listed rates too; it records what it was fed. */
function detector(takes: number[] | null) {
  const fed = { rates: [] as number[], frameLengths: new Set<number>() };
  const vad: VoiceActivityDetector = {
    sampleRateHz: 16000,
    frameSamples: (16000 * FRAME_MS) / 1000,
    ...(takes ? { frameSamplesAt: (rateHz: number) => (takes.includes(rateHz) ? (rateHz * FRAME_MS) / 1000 : undefined) } : {}),
    createStream(rateHz = 16000): VadStream {
      fed.rates.push(rateHz);
      return {
        speechProbability: (frame) => {
          fed.frameLengths.add(frame.length);
          return Promise.resolve(frame.some((x) => Math.abs(x) > 1000) ? 0.9 : 0.05);
        },
        close: () => undefined,
      };
    },
  };
  return { vad, fed };
}

/** `ms` of silence then `ms` of a loud 200 Hz tone, at `rateHz`. */
function silenceThenTone(rateHz: number, ms: number): Int16Array {
  const pcm = new Int16Array((2 * rateHz * ms) / 1000);
  for (let i = pcm.length / 2; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 200 * i) / rateHz));
  return pcm;
}

void describe('the rates the user audio reaches the recognizer and the VAD at', () => {
  const cases: Array<[string, number, number[] | null, number[] | null, { asrRateHz: number; vadHearsAsrAudio: boolean }]> = [
    ['8 kHz phone audio, both engines take it (Riva, Silero)', 8000, [8000], [8000], { asrRateHz: 8000, vadHearsAsrAudio: false }],
    ['8 kHz, neither takes it: one resampler feeds both', 8000, null, null, { asrRateHz: 16000, vadHearsAsrAudio: true }],
    ['8 kHz, only the recognizer takes it: the VAD resamples on its own', 8000, [8000], null, { asrRateHz: 8000, vadHearsAsrAudio: false }],
    ['8 kHz, only the VAD takes it: the recognizer alone gets resampled audio', 8000, null, [8000], { asrRateHz: 16000, vadHearsAsrAudio: false }],
    ['24 kHz Realtime audio, taken by neither: resampled once for both', 24000, [8000], [8000], { asrRateHz: 16000, vadHearsAsrAudio: true }],
    ['16 kHz: nothing to do', 16000, null, null, { asrRateHz: 16000, vadHearsAsrAudio: false }],
  ];
  for (const [name, inputRateHz, asrTakes, vadTakes, expected] of cases) {
    void it(name, () => assert.deepEqual(inputRoute(inputRateHz, recognizer(asrTakes), detector(vadTakes).vad), expected));
  }

  void it('a recognizer that takes the input rate gets the very chunk; one that does not gets it resampled', async () => {
    const chunk = silenceThenTone(8000, 100);
    const asIs = new ListeningInput(8000, recognizer([8000]), detector(null).vad);
    assert.equal(await asIs.forAsr(chunk), chunk);
    const resampled = new ListeningInput(8000, recognizer(null), detector(null).vad);
    const out = await resampled.forAsr(chunk);
    assert.ok(out && out.length > chunk.length * 1.8 && out.length <= chunk.length * 2, `about twice the samples at 16 kHz: ${out?.length}`);
    resampled.close();
    assert.equal(await resampled.forAsr(chunk), null, 'nothing once closed');
  });

  void it('a VAD that takes 8 kHz is fed 8 kHz frames, and speech starts at the same audio time', async () => {
    const starts: Record<string, number> = {};
    for (const takes of [[8000], null]) {
      const { vad, fed } = detector(takes);
      const voice = new VoiceActivity(vad, { threshold: 0.5, negThreshold: 0.35, minSpeechMs: 64, minSilenceMs: 200 });
      voice.setInputRate(8000);
      const audio = silenceThenTone(8000, 640);
      for (let at = 0; at < audio.length; at += 160) {
        await voice.push(audio.subarray(at, at + 160), (edge) => {
          if (edge?.type === 'speech_start') starts[takes ? 'native' : 'resampled'] = edge.offsetMs;
          return true;
        });
      }
      voice.close();
      if (takes) assert.deepEqual({ rates: fed.rates, frames: [...fed.frameLengths] }, { rates: [16000, 8000], frames: [256] }, 'a new stream at 8 kHz, 256-sample frames');
      else assert.deepEqual({ rates: fed.rates, frames: [...fed.frameLengths] }, { rates: [16000], frames: [512] }, 'resampled to 16 kHz, 512-sample frames');
    }
    assert.ok(starts.native !== undefined && starts.resampled !== undefined, JSON.stringify(starts));
    assert.ok(Math.abs(starts.native - 640) <= FRAME_MS && Math.abs(starts.resampled - 640) <= FRAME_MS, `speech began at 640 ms of audio: ${JSON.stringify(starts)}`);
  });
});

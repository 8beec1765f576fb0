/**
 * At what rate the user's audio reaches the recognizer and the VAD. An engine that takes the
 * input's rate gets the audio as it is: 8 kHz phone audio goes to Riva (which resamples on its
 * server) and to Silero (which has 8 kHz weights) without a resampler per call, the largest CPU
 * cost of a phone call before (BENCHMARKS.md "Phone calls"). Otherwise the audio is resampled, and
 * when the VAD wants the rate the recognizer is fed at, one resampler feeds both.
 */
import { StreamResampler } from '../audio/resampler.js';
import type { SpeechRecognizer, VoiceActivityDetector } from '../providers/types.js';

export interface InputRoute {
  /** The rate the recognizer stream is opened at and written to. */
  asrRateHz: number;
  /** The VAD is fed the recognizer's (resampled) audio instead of the input. */
  vadHearsAsrAudio: boolean;
}

/** The VAD's frame length for audio at `rateHz` as it is, or undefined when it must be resampled to the VAD's rate. */
export function vadFrameSamplesAt(vad: VoiceActivityDetector, rateHz: number): number | undefined {
  return rateHz === vad.sampleRateHz ? vad.frameSamples : vad.frameSamplesAt?.(rateHz);
}

/** Where audio at `inputRateHz` goes, at which rates. */
export function inputRoute(inputRateHz: number, asr: SpeechRecognizer, vad: VoiceActivityDetector): InputRoute {
  const asrRateHz = inputRateHz === asr.sampleRateHz || asr.takesRate?.(inputRateHz) ? inputRateHz : asr.sampleRateHz;
  const vadTakesInput = vadFrameSamplesAt(vad, inputRateHz) !== undefined;
  return { asrRateHz, vadHearsAsrAudio: !vadTakesInput && asrRateHz !== inputRateHz && asrRateHz === vad.sampleRateHz };
}

/** The session's input on its way to the recognizer: passed through, or resampled to its rate. */
export class ListeningInput {
  readonly route: InputRoute;
  /** Made by the first audio that needs it, so an idle session holds none. */
  private resampler: StreamResampler | null = null;
  private closed = false;

  constructor(
    readonly inputRateHz: number,
    asr: SpeechRecognizer,
    vad: VoiceActivityDetector,
  ) {
    this.route = inputRoute(inputRateHz, asr, vad);
  }

  /** `pcm` at the recognizer's rate; null once closed. Only the first chunk that needs a resampler waits for it. */
  async forAsr(pcm: Int16Array): Promise<Int16Array | null> {
    if (this.route.asrRateHz === this.inputRateHz) return this.closed ? null : pcm;
    if (!this.resampler) {
      const made = await StreamResampler.create(this.inputRateHz, this.route.asrRateHz);
      if (this.closed) {
        made.destroy();
        return null;
      }
      this.resampler ??= made;
      if (this.resampler !== made) made.destroy();
    }
    return this.closed ? null : this.resampler.process(pcm);
  }

  close(): void {
    this.closed = true;
    this.resampler?.destroy();
  }
}

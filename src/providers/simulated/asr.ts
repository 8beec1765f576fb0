/**
 * Simulated speech recognition for capacity planning. It decides from the audio's loudness, like a
 * recognizer with endpointing: partials while the user speaks, a stable interim after
 * `stableInterimMs` of silence, and a final `finalDelayMs` after the utterance ended (after
 * `endOfUtteranceMs` of silence, or when the audio stream ends). Silence is counted in audio time,
 * so the results do not depend on how fast audio arrives; only the final's delay is wall time.
 *
 * The words are not recognized, they are made up: one word per `msPerWord` of speech, from a fixed
 * list, so a transcript's length follows the speech's length.
 *
 * Not everything loud is words, as with a real recognizer: the zero-crossing rate of each 10 ms
 * tells voice from noise and from a hum. Noise (a cough, a door; above NOISE_MIN_CROSSINGS) gives
 * no words at all. A low hum (below HUM_MAX_CROSSINGS_PER_S, i.e. under ~130 Hz) is heard as the
 * backchannel "mm-hmm". A voice in between (the bench's 180 Hz utterance) gives words. The VAD,
 * which only hears loudness, hears all three as speech: that is what false interruptions are.
 */
import { rmsDbfs } from '../../audio/pcm.js';
import { AsyncQueue } from '../../lib/async-queue.js';
import type { SimulatedProfile } from './profile.js';
import type { AsrOptions, AsrResult, AsrStream, SpeechRecognizer } from '../types.js';

const SAMPLE_RATE_HZ = 16000;
/** Rates it takes as they are (as Riva does): any whole number of samples per 10 ms step in this range. */
const MIN_RATE_HZ = 8000;
const MAX_RATE_HZ = 48000;
/** Audio is judged in 10 ms steps whatever the size of the chunks written. */
const STEP_MS = 10;
/** A hum is a low tone: a 128 Hz tone crosses zero 256 times a second, whatever the sample rate. */
const HUM_MAX_CROSSINGS_PER_S = 256;
/** Zero crossings per sample pair: white noise fills the band and crosses about every other sample at any rate; voices stay far below this. */
const NOISE_MIN_CROSSINGS = 0.25;
const HUM_WORD = 'mm-hmm';
/** A hum counts once it lasts this long: a 10 ms step at the edge of speech, half silence, crosses rarely too. */
const HUM_MIN_MS = 60;
/** Voice counts once it lasts this long: the 10 ms step at the edge of a noise burst, part silence, crosses less often than noise. */
const VOICE_MIN_MS = 20;
const WORDS = 'please tell me what the weather will be like tomorrow morning in the city and whether I need an umbrella'.split(' ');

/** The made-up transcript of `voicedMs` of speech. */
export function simulatedTranscript(voicedMs: number, msPerWord: number): string {
  const count = Math.max(1, Math.round(voicedMs / msPerWord));
  return Array.from({ length: count }, (_, i) => WORDS[i % WORDS.length]!).join(' ');
}

export class SimulatedRecognizer implements SpeechRecognizer {
  readonly sampleRateHz = SAMPLE_RATE_HZ;

  constructor(private readonly profile: SimulatedProfile['asr']) {}

  takesRate(rateHz: number): boolean {
    return rateHz >= MIN_RATE_HZ && rateHz <= MAX_RATE_HZ && rateHz % (1000 / STEP_MS) === 0;
  }

  stream(opts: AsrOptions, signal: AbortSignal): AsrStream {
    return new SimulatedAsrStream(this.profile, this.takesRate(opts.sampleRateHz) ? opts.sampleRateHz : SAMPLE_RATE_HZ, signal);
  }
}

class SimulatedAsrStream implements AsrStream {
  private readonly results = new AsyncQueue<AsrResult>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private voicedMs = 0;
  /** Hummed speech (a backchannel) in the current utterance. */
  private hummedMs = 0;
  /** Hum-like steps in a row (not counted until HUM_MIN_MS). */
  private humRunMs = 0;
  /** Voice-like steps in a row (not counted until VOICE_MIN_MS). */
  private voiceRunMs = 0;
  private quietMs = 0;
  private stableSent = false;
  private ended = false;
  /** Samples of a step not yet complete (chunks need not be multiples of 10 ms). */
  private carry = new Int16Array(0);
  private readonly stepSamples: number;

  constructor(
    private readonly profile: SimulatedProfile['asr'],
    private readonly sampleRateHz: number,
    private readonly signal: AbortSignal,
  ) {
    this.stepSamples = (sampleRateHz * STEP_MS) / 1000;
    signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  write(pcm: Int16Array): void {
    if (this.ended || this.signal.aborted) return;
    const audio = this.carry.length === 0 ? pcm : concat(this.carry, pcm);
    let at = 0;
    for (; at + this.stepSamples <= audio.length; at += this.stepSamples) this.step(audio.subarray(at, at + this.stepSamples));
    this.carry = audio.slice(at);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.voicedMs > 0 || this.hummedMs > 0) this.endUtterance();
    this.closeWhenIdle();
  }

  [Symbol.asyncIterator](): AsyncIterator<AsrResult> {
    return this.results;
  }

  private step(frame: Int16Array): void {
    const { speechThresholdDbfs, partialEveryMs, stableInterimMs, endOfUtteranceMs } = this.profile;
    const crossings = rmsDbfs(frame) > speechThresholdDbfs ? zeroCrossingRate(frame) : null;
    if (crossings !== null && crossings * this.sampleRateHz < HUM_MAX_CROSSINGS_PER_S) {
      this.voiceRunMs = 0;
      this.humRunMs += STEP_MS;
      if (this.humRunMs < HUM_MIN_MS) return;
      if (this.hummedMs === 0 && this.voicedMs === 0) this.results.push({ kind: 'partial', text: HUM_WORD });
      this.hummedMs += this.humRunMs === HUM_MIN_MS ? HUM_MIN_MS : STEP_MS;
      this.quietMs = 0;
      this.stableSent = false;
      return;
    }
    this.humRunMs = 0;
    if (crossings !== null && crossings < NOISE_MIN_CROSSINGS) {
      this.voiceRunMs += STEP_MS;
      if (this.voiceRunMs < VOICE_MIN_MS) return;
      const before = this.voicedMs;
      this.voicedMs += this.voiceRunMs === VOICE_MIN_MS ? VOICE_MIN_MS : STEP_MS;
      this.quietMs = 0;
      this.stableSent = false;
      if (Math.floor(this.voicedMs / partialEveryMs) > Math.floor(before / partialEveryMs) || before === 0) {
        this.results.push({ kind: 'partial', text: this.transcript() });
      }
      return;
    }
    this.voiceRunMs = 0;
    if (this.voicedMs === 0 && this.hummedMs === 0) return; // silence, or noise: no words
    this.quietMs += STEP_MS;
    if (stableInterimMs > 0 && !this.stableSent && this.quietMs >= stableInterimMs) {
      this.stableSent = true;
      this.results.push({ kind: 'stable', text: this.transcript() });
    }
    if (this.quietMs >= endOfUtteranceMs) this.endUtterance();
  }

  /** The utterance is over: its final comes after the recognizer's own delay. */
  private endUtterance(): void {
    const final: AsrResult = { kind: 'final', text: this.transcript() };
    this.voicedMs = 0;
    this.hummedMs = 0;
    this.quietMs = 0;
    this.stableSent = false;
    if (this.profile.finalDelayMs <= 0) {
      this.results.push(final);
      return;
    }
    this.at(performance.now() + this.profile.finalDelayMs, () => {
      this.results.push(final);
      this.closeWhenIdle();
    });
  }

  /** Runs `fn` at performance.now() >= `due` (timers may fire up to a millisecond early). */
  private at(due: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (performance.now() < due) this.at(due, fn);
      else fn();
    }, Math.max(1, due - performance.now()));
    this.timers.add(timer);
  }

  private closeWhenIdle(): void {
    if (this.ended && this.timers.size === 0) this.results.end();
  }

  private stop(): void {
    this.ended = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.results.endNow();
  }

  private transcript(): string {
    const words = this.voicedMs > 0 ? simulatedTranscript(this.voicedMs, this.profile.msPerWord) : '';
    return this.hummedMs > 0 ? `${HUM_WORD} ${words}`.trim() : words;
  }
}

/** Sign changes per pair of neighbouring samples (0 to 1). */
function zeroCrossingRate(frame: Int16Array): number {
  let changes = 0;
  for (let i = 1; i < frame.length; i++) if (frame[i - 1]! < 0 !== frame[i]! < 0) changes++;
  return changes / (frame.length - 1);
}

function concat(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

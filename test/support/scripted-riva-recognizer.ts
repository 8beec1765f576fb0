/**
 * The scripted Riva server's recognizer: Riva's endpointing over 20 ms frames whose "blank or
 * not" comes from their energy instead of an acoustic model. Audio time decides everything, so
 * results do not depend on how fast the test machine is.
 */
import { rmsDbfs } from '../../src/audio/pcm.js';
import type { StreamingRecognitionConfig } from '../../src/gen/riva/proto/riva_asr_pb.js';

export interface RivaUtterance {
  /** 0 for the first utterance of the stream. */
  index: number;
  /** Voiced audio in it so far, ms. */
  voicedMs: number;
}

/** What an utterance says: one text, or interims that differ from the final. */
export type RivaWords = (utterance: RivaUtterance) => string | { interim: string; final: string };

export type RecognizerResult = { kind: 'partial' | 'stable' | 'final'; text: string; stability: number; audioMs: number };

const FRAME_MS = 20;
const SPEECH_DBFS = -45;
const INTERIM_EVERY_MS = 160;
const MS_PER_WORD = 200;
/** Riva's own (riva-build) values where the client leaves a field unset. */
const MODEL_DEFAULTS = { startHistory: 300, startThreshold: 0.2, stopHistory: 800, stopThreshold: 0.98 };

export class EndpointingRecognizer {
  readonly sampleRateHz: number;
  private readonly frameSamples: number;
  private readonly startFrames: number;
  private readonly startThreshold: number;
  private readonly stopFrames: number;
  private readonly stopThreshold: number;
  private readonly eouFrames: number | null;
  private readonly eouThreshold: number;
  private buffered = new Int16Array(0);
  private frames: boolean[] = [];
  private processedMs = 0;
  private speaking = false;
  private index = -1;
  private voicedMs = 0;
  private sinceInterimMs = 0;
  private stableSent = false;

  constructor(
    config: StreamingRecognitionConfig,
    private readonly words: RivaWords,
  ) {
    const c = config.config!;
    const e = c.endpointingConfig;
    this.sampleRateHz = c.sampleRateHertz;
    this.frameSamples = Math.round((this.sampleRateHz * FRAME_MS) / 1000);
    this.startFrames = frames(e?.startHistory ?? MODEL_DEFAULTS.startHistory);
    this.startThreshold = e?.startThreshold ?? MODEL_DEFAULTS.startThreshold;
    this.stopFrames = frames(e?.stopHistory ?? MODEL_DEFAULTS.stopHistory);
    this.stopThreshold = e?.stopThreshold ?? MODEL_DEFAULTS.stopThreshold;
    this.eouFrames = e?.stopHistoryEou !== undefined && e.stopHistoryEou > 0 ? frames(e.stopHistoryEou) : null;
    this.eouThreshold = e?.stopThresholdEou ?? this.stopThreshold;
  }

  feed(pcm: Int16Array): RecognizerResult[] {
    const all = new Int16Array(this.buffered.length + pcm.length);
    all.set(this.buffered);
    all.set(pcm, this.buffered.length);
    const out: RecognizerResult[] = [];
    let at = 0;
    for (; at + this.frameSamples <= all.length; at += this.frameSamples) {
      const result = this.frame(rmsDbfs(all.subarray(at, at + this.frameSamples)) > SPEECH_DBFS);
      if (result) out.push(result);
    }
    this.buffered = all.slice(at);
    return out;
  }

  /** The stream ends: an utterance in progress gets its final now. */
  flush(): RecognizerResult[] {
    return this.speaking ? [this.final()] : [];
  }

  private frame(voiced: boolean): RecognizerResult | null {
    this.processedMs += FRAME_MS;
    this.frames.push(voiced);
    if (this.frames.length > 1000) this.frames.shift();
    if (!this.speaking) {
      if (!voiced || this.share(this.startFrames, true) < this.startThreshold) return null;
      this.speaking = true;
      this.index++;
      this.voicedMs = 0;
      this.sinceInterimMs = 0;
      this.stableSent = false;
    }
    if (voiced) {
      this.voicedMs += FRAME_MS;
      this.sinceInterimMs += FRAME_MS;
      this.stableSent = false; // speech again: a new first pass may come
      if (this.sinceInterimMs >= INTERIM_EVERY_MS) {
        this.sinceInterimMs = 0;
        const text = this.interimText();
        const shown = text.split(' ').slice(0, Math.max(1, Math.floor(this.voicedMs / MS_PER_WORD))).join(' ');
        return { kind: 'partial', text: shown, stability: 0.1, audioMs: this.processedMs };
      }
      return null;
    }
    if (this.frames.length >= this.stopFrames && this.share(this.stopFrames, false) >= this.stopThreshold) return this.final();
    if (this.eouFrames !== null && !this.stableSent && this.frames.length >= this.eouFrames && this.share(this.eouFrames, false) >= this.eouThreshold) {
      this.stableSent = true;
      return { kind: 'stable', text: this.interimText(), stability: 1.0, audioMs: this.processedMs };
    }
    return null;
  }

  private final(): RecognizerResult {
    const said = this.words({ index: this.index, voicedMs: this.voicedMs });
    this.speaking = false;
    this.frames = []; // the decoder resets: old speech does not start a new utterance
    return { kind: 'final', text: typeof said === 'string' ? said : said.final, stability: 0, audioMs: this.processedMs };
  }

  private interimText(): string {
    const said = this.words({ index: this.index, voicedMs: this.voicedMs });
    return typeof said === 'string' ? said : said.interim;
  }

  /** Share of the last `count` frames that are voiced (or blank). */
  private share(count: number, voiced: boolean): number {
    const window = this.frames.slice(-count);
    return window.filter((f) => f === voiced).length / Math.max(1, window.length);
  }
}

function frames(ms: number): number {
  return Math.max(1, Math.round(ms / FRAME_MS));
}

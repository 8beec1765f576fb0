/**
 * Cuts a recognizer stream's audio into utterances at the speech edges of the session's VAD, for
 * recognizers that transcribe one utterance at a time (OpenAI-compatible servers, Wyoming). Audio
 * outside speech is kept only as a short lead-in: the padding before the start edge, plus the
 * speech the VAD heard before it was sure. An utterance that reaches `maxUtteranceMs` is ended
 * there and the speech goes on as a new one, so no request carries more audio than that.
 */
import { concatPcm } from '../../audio/pcm.js';
import type { SpeechEdge } from '../types.js';

export interface UtteranceSettings {
  sampleRateHz: number;
  /** Audio before the start edge sent with the utterance. */
  paddingMs: number;
  /** Longest utterance; longer speech is cut into several. */
  maxUtteranceMs: number;
}

export type UtteranceEnd = 'speech_end' | 'max_length' | 'stream_end';

export interface UtteranceHandler {
  /** An utterance begins with `lead`: the padding and the speech before the start edge. */
  begin(lead: Int16Array): void;
  /** More audio of the current utterance. */
  audio(pcm: Int16Array): void;
  /** The current utterance ended. */
  finish(why: UtteranceEnd): void;
}

/**
 * The start edge comes after VAD_MIN_SPEECH_MS (at most 2000 ms) of speech, a frame and the
 * resampler's few ms later: the lead-in kept before speech covers that and the padding.
 */
const START_EDGE_LAG_MAX_MS = 2500;

export class UtteranceCutter {
  /** Recent audio outside speech, newest last, at most `leadMaxSamples`. */
  private lead: Int16Array[] = [];
  private leadSamples = 0;
  private readonly leadMaxSamples: number;
  private readonly paddingSamples: number;
  private readonly maxSamples: number;
  private readonly samplesPerMs: number;
  private inUtterance = false;
  private utteranceSamples = 0;

  constructor(
    settings: UtteranceSettings,
    private readonly handler: UtteranceHandler,
  ) {
    this.samplesPerMs = settings.sampleRateHz / 1000;
    this.paddingSamples = Math.round(settings.paddingMs * this.samplesPerMs);
    this.leadMaxSamples = this.paddingSamples + Math.round(START_EDGE_LAG_MAX_MS * this.samplesPerMs);
    this.maxSamples = Math.round(settings.maxUtteranceMs * this.samplesPerMs);
  }

  /** An utterance is in progress. */
  get speaking(): boolean {
    return this.inUtterance;
  }

  write(pcm: Int16Array): void {
    if (!this.inUtterance) return this.keepLead(pcm);
    let rest = pcm;
    while (rest.length > 0) {
      const part = rest.subarray(0, this.maxSamples - this.utteranceSamples);
      rest = rest.subarray(part.length);
      this.handler.audio(part);
      this.utteranceSamples += part.length;
      if (this.utteranceSamples >= this.maxSamples) {
        this.handler.finish('max_length');
        // The speech goes on: its next part is an utterance of its own, with no lead-in.
        this.utteranceSamples = 0;
        this.handler.begin(new Int16Array(0));
      }
    }
  }

  speech(edge: SpeechEdge): void {
    if (edge.type === 'start') {
      if (this.inUtterance) return;
      const wanted = Math.round(edge.msAgo * this.samplesPerMs) + this.paddingSamples;
      const lead = this.takeLead(Math.min(wanted, this.maxSamples));
      this.inUtterance = true;
      this.utteranceSamples = lead.length;
      this.handler.begin(lead);
    } else if (this.inUtterance) {
      // The audio after the end edge (the VAD's minimum silence) is already in: a natural tail.
      this.inUtterance = false;
      this.handler.finish('speech_end');
    }
  }

  /** The stream ends: an utterance in progress ends with it. */
  end(): void {
    if (!this.inUtterance) return;
    this.inUtterance = false;
    this.handler.finish('stream_end');
  }

  private keepLead(pcm: Int16Array): void {
    this.lead.push(pcm);
    this.leadSamples += pcm.length;
    while (this.leadSamples > this.leadMaxSamples) {
      const extra = this.leadSamples - this.leadMaxSamples;
      const oldest = this.lead[0]!;
      if (oldest.length <= extra) this.lead.shift();
      else this.lead[0] = oldest.subarray(extra);
      this.leadSamples -= Math.min(oldest.length, extra);
    }
  }

  /** The last `samples` of the lead-in (or all of it), which is emptied. */
  private takeLead(samples: number): Int16Array {
    const all = concatPcm(this.lead);
    this.lead = [];
    this.leadSamples = 0;
    return all.subarray(Math.max(0, all.length - samples));
  }
}

/**
 * Streaming speech recognition on NVIDIA Riva (StreamingRecognize), wire-compatible with Riva
 * servers, speech NIMs and NVIDIA's hosted endpoints.
 *
 * One AsrStream may span several gRPC calls, because Riva streams do not live forever: a server
 * closes an idle stream, restarts, or a load balancer drops it. So:
 * - audio goes out in chunks of `chunkMs` (100 ms, like NVIDIA's clients);
 * - while no audio comes, silence is sent every `keepaliveMs`, so Riva does not close the stream;
 * - a call that drops (UNAVAILABLE, deadline, reset) is reopened, at most `reconnectRetries` times
 *   in a row (the count resets when a reopened call answers), and the audio since the last final
 *   is sent again, so a drop in the middle of an utterance loses no words;
 * - a call the server ends cleanly (idle close) is reopened by the next audio;
 * - each call has a deadline; a long-lived call is replaced at an utterance boundary before it.
 * Riva quirks stay here: an interim with stability 1.0 (the first pass of the two-pass end of
 * utterance) is `stable`, `is_final` is `final`, everything else is `partial`.
 */
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { status as grpcStatus, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { bytesFromPcm16 } from '../../audio/pcm.js';
import {
  RivaSpeechRecognition,
  StreamingRecognizeRequestSchema,
  type StreamingRecognitionConfig,
  type StreamingRecognizeRequest,
  type StreamingRecognizeResponse,
} from '../../gen/riva/proto/riva_asr_pb.js';
import { AsyncQueue } from '../../lib/async-queue.js';
import type { RivaChannel } from './channel.js';
import { isRetryable, rivaError } from './errors.js';
import type { AsrOptions, AsrResult, AsrStream, SpeechRecognizer } from '../types.js';
import { checkEndpointing, streamingConfig, type RivaRecognitionSettings } from './asr-config.js';

export interface RivaAsrSettings extends RivaRecognitionSettings {
  /** Audio per request message. */
  chunkMs: number;
  /** Silence is sent when no audio came for this long. */
  keepaliveMs: number;
  /** Deadline of one StreamingRecognize call. */
  streamDeadlineMs: number;
  /** Reopens in a row after drops before the stream fails. */
  reconnectRetries: number;
  /** Wait before the first reopen; doubled for each further one. */
  reconnectBackoffMs: number;
  /** Most audio kept to send again after a drop. */
  replayMaxMs: number;
}

/** float32 stability of an interim at or above which it is Riva's first-pass end of utterance. */
const STABLE_AT = 0.999;
/** Below this, speech is not worth recognizing (telephone band). */
const MIN_RATE_HZ = 8000;

type Call = ClientDuplexStream<StreamingRecognizeRequest, StreamingRecognizeResponse>;

export class RivaRecognizer implements SpeechRecognizer {
  readonly sampleRateHz: number;

  constructor(
    private readonly channel: RivaChannel,
    private readonly settings: RivaAsrSettings,
  ) {
    checkEndpointing(settings.endpointing);
    this.sampleRateHz = settings.sampleRateHz;
  }

  /**
   * Riva resamples on its server (`sample_rate_hertz`), so audio from 8 kHz up to RIVA_ASR_SAMPLE_RATE
   * goes as it is: phone calls skip a resampler per call, and upsampling here would add bytes, not
   * sound. Higher rates are resampled down here, so no more bytes go out than that setting says.
   */
  takesRate(rateHz: number): boolean {
    return rateHz >= MIN_RATE_HZ && rateHz <= this.sampleRateHz;
  }

  stream(opts: AsrOptions, signal: AbortSignal): RivaAsrStream {
    const config = streamingConfig({ ...this.settings, sampleRateHz: opts.sampleRateHz }, opts.language);
    return new RivaAsrStream(this.channel, this.settings, config, opts.sampleRateHz, signal);
  }
}

export class RivaAsrStream implements AsrStream {
  private readonly results: AsyncQueue<AsrResult>;
  private readonly chunkSamples: number;
  private readonly replayMaxSamples: number;
  private call: Call | null = null;
  private callOpenedAt = 0;
  /** Samples written to the current call. */
  private callSamples = 0;
  /** Audio not yet sent: less than one chunk. */
  private pending: Int16Array[] = [];
  private pendingSamples = 0;
  /** Audio sent since the last final, and where its first sample sits in the current call. */
  private replay: Int16Array[] = [];
  private replaySamples = 0;
  private replayOffset = 0;
  private failuresInRow = 0;
  private lastAudioAt = performance.now();
  private reopenTimer: NodeJS.Timeout | undefined;
  private readonly keepaliveTimer: NodeJS.Timeout;
  /** end() was called: the last call is half-closed and its results end the stream. */
  private ended = false;
  /** No more calls: finished, failed or aborted. */
  private closed = false;
  private readonly onAbort = () => this.abort();

  constructor(
    private readonly channel: RivaChannel,
    private readonly settings: RivaAsrSettings,
    private readonly config: StreamingRecognitionConfig,
    private readonly sampleRateHz: number,
    private readonly signal: AbortSignal,
  ) {
    this.results = new AsyncQueue<AsrResult>({ onReturn: () => this.abort() });
    this.chunkSamples = Math.round((sampleRateHz * settings.chunkMs) / 1000);
    this.replayMaxSamples = Math.round((sampleRateHz * settings.replayMaxMs) / 1000);
    this.keepaliveTimer = setInterval(() => this.keepAlive(), Math.max(20, settings.keepaliveMs / 4));
    this.keepaliveTimer.unref();
    if (signal.aborted) this.abort();
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<AsrResult> {
    return this.results;
  }

  /** A gRPC call is open (false before the first audio and after Riva closed an idle stream). */
  get hasCall(): boolean {
    return this.call !== null;
  }

  write(pcm: Int16Array): void {
    if (this.ended || this.closed || pcm.length === 0) return;
    this.lastAudioAt = performance.now();
    this.pending.push(pcm);
    this.pendingSamples += pcm.length;
    while (this.pendingSamples >= this.chunkSamples) this.send(this.takePending(this.chunkSamples));
  }

  end(): void {
    if (this.ended || this.closed) return;
    if (this.pendingSamples > 0) this.send(this.takePending(this.pendingSamples));
    this.ended = true;
    if (this.call) this.call.end();
    else if (!this.reopenTimer) {
      if (this.replay.length > 0) this.open();
      else this.finish();
    }
  }

  private takePending(samples: number): Int16Array {
    const all = new Int16Array(this.pendingSamples);
    let at = 0;
    for (const part of this.pending) {
      all.set(part, at);
      at += part.length;
    }
    const rest = all.subarray(samples);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingSamples = rest.length;
    return all.subarray(0, samples);
  }

  private send(chunk: Int16Array): void {
    this.replay.push(chunk);
    this.replaySamples += chunk.length;
    while (this.replaySamples > this.replayMaxSamples && this.replay.length > 1) {
      const dropped = this.replay.shift()!;
      this.replaySamples -= dropped.length;
      this.replayOffset += dropped.length;
    }
    if (this.call) this.writeAudio(this.call, chunk);
    else if (!this.reopenTimer) this.open(); // the open call sends the replay, this chunk included
  }

  private open(): void {
    const call = this.channel.bidi(RivaSpeechRecognition.method.streamingRecognize, { service: 'asr', deadlineMs: this.settings.streamDeadlineMs });
    this.call = call;
    this.callOpenedAt = performance.now();
    this.callSamples = 0;
    this.replayOffset = 0;
    call.on('data', (response: StreamingRecognizeResponse) => this.onResponse(call, response));
    call.on('error', () => undefined); // the status says what happened
    call.on('status', (status: StatusObject) => {
      // A clean end comes before the last messages are read: wait for them.
      if (status.code === grpcStatus.OK && !call.readableEnded) call.once('end', () => this.onCallDone(call, status));
      else this.onCallDone(call, status);
    });
    // Riva logs and echoes the request id: the one way to find this call in its logs.
    const id = { value: `voice-gateway-asr-${randomUUID()}` };
    call.write(create(StreamingRecognizeRequestSchema, { streamingRequest: { case: 'streamingConfig', value: this.config }, id }));
    for (const chunk of this.replay) this.writeAudio(call, chunk);
    if (this.ended) call.end();
  }

  private writeAudio(call: Call, chunk: Int16Array): void {
    call.write(create(StreamingRecognizeRequestSchema, { streamingRequest: { case: 'audioContent', value: bytesFromPcm16(chunk) } }));
    this.callSamples += chunk.length;
  }

  private onResponse(call: Call, response: StreamingRecognizeResponse): void {
    if (call !== this.call || this.closed) return; // a call replaced at an utterance boundary
    this.failuresInRow = 0;
    const interims: Array<{ text: string; stable: boolean }> = [];
    let sawFinal = false;
    for (const result of response.results) {
      const text = result.alternatives[0]?.transcript.trim() ?? '';
      if (result.isFinal) {
        sawFinal = true;
        if (text) this.results.push({ kind: 'final', text });
        this.dropAnswered(result.audioProcessed);
      } else if (text) {
        interims.push({ text, stable: result.stability >= STABLE_AT });
      }
    }
    if (interims.length > 0) {
      // Several interims in one response are consecutive parts of the utterance.
      this.results.push({ kind: interims.every((i) => i.stable) ? 'stable' : 'partial', text: interims.map((i) => i.text).join(' ') });
    }
    if (sawFinal && !this.ended && performance.now() - this.callOpenedAt > this.settings.streamDeadlineMs / 2) this.replaceCall();
  }

  /** A final answered the call's audio up to `audioProcessedS`: that audio need not be replayed. */
  private dropAnswered(audioProcessedS: number): void {
    const answered = audioProcessedS > 0 ? Math.round(audioProcessedS * this.sampleRateHz) : this.callSamples;
    while (this.replay.length > 0 && this.replayOffset + this.replay[0]!.length <= answered) {
      const chunk = this.replay.shift()!;
      this.replayOffset += chunk.length;
      this.replaySamples -= chunk.length;
    }
  }

  /** Half-closes an old call between utterances; the next audio opens a fresh one. */
  private replaceCall(): void {
    const call = this.call;
    this.call = null;
    call?.end();
  }

  private onCallDone(call: Call, status: StatusObject): void {
    if (call !== this.call || this.closed) return;
    this.call = null;
    if (status.code === grpcStatus.OK) {
      if (this.ended) return this.finish();
      // The server ended the stream itself (idle close) after answering all it had read. Audio
      // written in the instant the close was on its way is lost: keepalive silence prevents
      // idle closes, so that is rare, and replaying seconds of old silence would delay the next words.
      this.replay = [];
      this.replaySamples = 0;
      return;
    }
    if (isRetryable(status.code, status.details) && this.failuresInRow < this.settings.reconnectRetries) {
      this.failuresInRow++;
      const waitMs = this.settings.reconnectBackoffMs * 2 ** (this.failuresInRow - 1);
      this.reopenTimer = setTimeout(() => {
        this.reopenTimer = undefined;
        if (!this.closed) this.open();
      }, waitMs);
      return;
    }
    const error = rivaError('asr', 'streaming recognition', this.channel, status, 'RIVA_ASR_STREAM_DEADLINE_MS');
    if (this.failuresInRow > 0) error.message += `; gave up after ${this.failuresInRow} reconnects (RIVA_ASR_RECONNECT_RETRIES)`;
    this.stop();
    this.results.fail(error);
  }

  private keepAlive(): void {
    if (!this.call || this.ended || this.closed) return;
    if (performance.now() - this.lastAudioAt < this.settings.keepaliveMs) return;
    this.lastAudioAt = performance.now();
    this.send(new Int16Array(this.chunkSamples));
  }

  private finish(): void {
    this.stop();
    this.results.end();
  }

  private abort(): void {
    if (this.closed) return;
    this.stop();
    this.results.end();
  }

  private stop(): void {
    this.closed = true;
    clearInterval(this.keepaliveTimer);
    clearTimeout(this.reopenTimer);
    this.signal.removeEventListener('abort', this.onAbort);
    this.call?.cancel();
    this.call = null;
  }
}

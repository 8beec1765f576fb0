/**
 * The page's audio: one AudioContext, asked to run at 16 kHz (the browser then resamples the
 * microphone and the output device), with the capture and playback worklets loaded. A browser
 * that cannot connect a microphone to a context of another rate gets a context at its own rate;
 * the gateway is told that rate and resamples.
 */
import { CAPTURE_PROCESSOR, PLAYBACK_PROCESSOR, type CaptureOptions, type CapturedChunk, type PlaybackCommand, type PlaybackOptions, type PlaybackReport } from './worklet-messages.js';
import { pcm16ToFloat } from './pcm.js';

export const PREFERRED_SAMPLE_RATE_HZ = 16000;
/** Microphone audio is sent in chunks of this length. */
const CHUNK_MS = 20;
/** Reply audio queued before playing starts: absorbs network jitter at a small cost in delay. */
const JITTER_BUFFER_MS = 80;
/** How often the playback position is reported. */
const POSITION_REPORT_MS = 50;

export type MicrophoneProblem = 'denied' | 'missing' | 'busy' | 'insecure' | 'other';

export class MicrophoneError extends Error {
  constructor(
    readonly problem: MicrophoneProblem,
    message: string,
  ) {
    super(message);
    this.name = 'MicrophoneError';
  }
}

export interface AudioGraphOptions {
  /** Echo cancellation, noise suppression and auto gain (on by default). */
  processing: boolean;
  onChunk(samples: Int16Array, peak: number): void;
  onPlayback(report: PlaybackReport): void;
}

export class AudioGraph {
  private constructor(
    readonly context: AudioContext,
    private readonly stream: MediaStream,
    private readonly playback: AudioWorkletNode,
  ) {}

  get sampleRateHz(): number {
    return this.context.sampleRate;
  }

  static async open(options: AudioGraphOptions): Promise<AudioGraph> {
    const stream = await openMicrophone(options.processing);
    try {
      try {
        return await AudioGraph.build(new AudioContext({ sampleRate: PREFERRED_SAMPLE_RATE_HZ, latencyHint: 'interactive' }), stream, options);
      } catch (error) {
        if (!(error instanceof DOMException) || error.name !== 'NotSupportedError') throw error;
        return await AudioGraph.build(new AudioContext({ latencyHint: 'interactive' }), stream, options);
      }
    } catch (error) {
      stream.getTracks().forEach((t) => t.stop());
      throw error;
    }
  }

  private static async build(context: AudioContext, stream: MediaStream, options: AudioGraphOptions): Promise<AudioGraph> {
    try {
      await context.audioWorklet.addModule(new URL('./capture-worklet.js', import.meta.url));
      await context.audioWorklet.addModule(new URL('./playback-worklet.js', import.meta.url));
      const rate = context.sampleRate;
      const source = context.createMediaStreamSource(stream);
      const captureOptions: CaptureOptions = { chunkSamples: Math.round((rate * CHUNK_MS) / 1000) };
      const capture = new AudioWorkletNode(context, CAPTURE_PROCESSOR, { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, processorOptions: captureOptions });
      capture.port.onmessage = (event: MessageEvent<CapturedChunk>) => options.onChunk(event.data.samples, event.data.peak);
      // A node must reach the destination to be pulled by every browser; this path is silent.
      const mute = new GainNode(context, { gain: 0 });
      source.connect(capture).connect(mute).connect(context.destination);

      const playbackOptions: PlaybackOptions = {
        startThresholdSamples: Math.round((rate * JITTER_BUFFER_MS) / 1000),
        reportEverySamples: Math.round((rate * POSITION_REPORT_MS) / 1000),
      };
      const playback = new AudioWorkletNode(context, PLAYBACK_PROCESSOR, { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1], processorOptions: playbackOptions });
      playback.port.onmessage = (event: MessageEvent<PlaybackReport>) => options.onPlayback(event.data);
      playback.connect(context.destination);
      await context.resume();
      return new AudioGraph(context, stream, playback);
    } catch (error) {
      await context.close();
      throw error;
    }
  }

  play(responseId: string, samples: Int16Array): void {
    const floats = pcm16ToFloat(samples);
    const command: PlaybackCommand = { type: 'audio', responseId, samples: floats };
    this.playback.port.postMessage(command, [floats.buffer]);
  }

  /** Drops queued reply audio at once (one reply's, or all). */
  flush(responseId?: string): void {
    const command: PlaybackCommand = { type: 'flush', responseId };
    this.playback.port.postMessage(command);
  }

  async close(): Promise<void> {
    this.stream.getTracks().forEach((t) => t.stop());
    await this.context.close();
  }
}

async function openMicrophone(processing: boolean): Promise<MediaStream> {
  // Only secure pages (https, or http on localhost) get navigator.mediaDevices.
  if (!(navigator.mediaDevices as MediaDevices | undefined)?.getUserMedia) {
    throw new MicrophoneError('insecure', 'This page cannot use a microphone: open it over https:// (or on localhost).');
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing },
    });
  } catch (error) {
    const name = error instanceof DOMException ? error.name : '';
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      throw new MicrophoneError('denied', 'Microphone access was denied. Allow the microphone for this site (the icon at the left of the address bar), then press Start again.');
    }
    if (name === 'NotFoundError' || name === 'OverconstrainedError') throw new MicrophoneError('missing', 'No microphone was found. Connect one, then press Start again.');
    if (name === 'NotReadableError' || name === 'AbortError') throw new MicrophoneError('busy', 'The microphone could not be opened: another application may be using it.');
    throw new MicrophoneError('other', `The microphone could not be opened: ${error instanceof Error ? error.message : String(error)}`);
  }
}

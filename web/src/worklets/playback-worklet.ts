/**
 * Reply playback, on the audio thread: a PlaybackQueue (jitter buffer, flush, positions) feeding
 * the output, with positions reported to the page every few tens of ms and at once after a flush.
 */
import { PlaybackQueue } from '../audio/playback-queue.js';
import { PLAYBACK_PROCESSOR, type PlaybackCommand, type PlaybackOptions, type PlaybackReport } from '../audio/worklet-messages.js';

class PlaybackProcessor extends AudioWorkletProcessor {
  private readonly queue: PlaybackQueue;
  private readonly reportEverySamples: number;
  private sinceReport = 0;
  private lastReported = -1;

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    const { startThresholdSamples, reportEverySamples } = options.processorOptions as PlaybackOptions;
    this.queue = new PlaybackQueue({ startThresholdSamples });
    this.reportEverySamples = reportEverySamples;
    this.port.onmessage = (event: MessageEvent<PlaybackCommand>) => this.command(event.data);
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const output = outputs[0];
    const first = output?.[0];
    if (!output || !first) return true;
    this.queue.render(first);
    for (let c = 1; c < output.length; c++) output[c]!.set(first);
    this.sinceReport += first.length;
    // Report while audio moves, and once more when it stops, so the last position is exact.
    if (this.sinceReport >= this.reportEverySamples && this.queue.playedSamples !== this.lastReported) this.report('position');
    return true;
  }

  private command(command: PlaybackCommand): void {
    switch (command.type) {
      case 'audio':
        this.queue.push(command.responseId, command.samples);
        return;
      case 'flush': {
        const droppedSamples = this.queue.flush(command.responseId);
        this.report('flushed', { responseId: command.responseId, droppedSamples });
        return;
      }
    }
  }

  private report(type: PlaybackReport['type'], flushed?: PlaybackReport['flushed']): void {
    const q = this.queue;
    const message: PlaybackReport = {
      type,
      played: [...q.played],
      bufferedSamples: q.bufferedSamples,
      playedSamples: q.playedSamples,
      soundSamples: q.soundSamples,
      peak: q.peak,
      flushed,
    };
    this.port.postMessage(message);
    this.sinceReport = 0;
    this.lastReported = q.playedSamples;
  }
}

registerProcessor(PLAYBACK_PROCESSOR, PlaybackProcessor);

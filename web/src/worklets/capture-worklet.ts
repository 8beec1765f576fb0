/**
 * Microphone capture, on the audio thread: takes the first channel of the input, converts it to
 * PCM16 and posts chunks of a fixed length to the page (their buffers are transferred, not
 * copied). Runs at the AudioContext's rate, which the page asks to be 16 kHz.
 */
import { floatToPcm16 } from '../audio/pcm.js';
import { CAPTURE_PROCESSOR, type CaptureOptions, type CapturedChunk } from '../audio/worklet-messages.js';

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly chunk: Float32Array;
  private filled = 0;
  private peak = 0;

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    const { chunkSamples } = options.processorOptions as CaptureOptions;
    this.chunk = new Float32Array(chunkSamples);
  }

  process(inputs: Float32Array[][]): boolean {
    const input = inputs[0]?.[0];
    if (!input) return true; // no microphone connected yet
    let at = 0;
    while (at < input.length) {
      const n = Math.min(input.length - at, this.chunk.length - this.filled);
      for (let i = 0; i < n; i++) {
        const s = input[at + i]!;
        this.chunk[this.filled + i] = s;
        if (Math.abs(s) > this.peak) this.peak = Math.abs(s);
      }
      this.filled += n;
      at += n;
      if (this.filled === this.chunk.length) this.post();
    }
    return true;
  }

  private post(): void {
    const samples = floatToPcm16(this.chunk);
    const message: CapturedChunk = { type: 'audio', samples, peak: this.peak };
    this.port.postMessage(message, [samples.buffer]);
    this.filled = 0;
    this.peak = 0;
  }
}

registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor);

/**
 * The AudioWorkletGlobalScope, which TypeScript's DOM library does not describe: the base class
 * of processors, their registration, and the context's sample rate.
 */
declare abstract class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: AudioWorkletNodeOptions);
  abstract process(inputs: Float32Array[][], outputs: Float32Array[][], parameters: Record<string, Float32Array>): boolean;
}

declare function registerProcessor(name: string, processor: new (options: AudioWorkletNodeOptions) => AudioWorkletProcessor): void;

/** The sample rate of the AudioContext this worklet runs in. */
declare const sampleRate: number;

/**
 * Types of @echogarden/kissfft-wasm (KISS FFT compiled to WASM by Emscripten; the package ships
 * none): only the functions src/audio/real-fft.ts calls. Pointers are byte offsets into the heap.
 */
declare module '@echogarden/kissfft-wasm' {
  export interface KissFftModule {
    /** The module's memory as floats; replaced when the memory grows, so read it after allocating. */
    readonly HEAPF32: Float32Array;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
    /** A plan for a real FFT of `nfft` points (even); `inverse` 0 for forward. */
    _kiss_fftr_alloc(nfft: number, inverse: number, mem: number, lenmem: number): number;
    /** `nfft` real floats at `timedata` in, `nfft / 2 + 1` complex (re, im) float pairs at `freqdata` out. */
    _kiss_fftr(plan: number, timedata: number, freqdata: number): void;
  }
  const createKissFft: (options?: Record<string, unknown>) => Promise<KissFftModule>;
  export default createKissFft;
}

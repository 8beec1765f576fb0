/**
 * WAV files in and out, for the CLI and tests. wavefile parses the RIFF chunks (RIFF, RIFX, RF64,
 * extra chunks, odd chunk padding); the sample decoding is done here so that every common layout
 * becomes the gateway's mono int16 the same way, and 16-bit input comes back bit-exact.
 */
import wavefile from 'wavefile';
import { decodeG711 } from './g711.js';
import { AudioFormatError } from './pcm.js';
import { resampleAll } from './resampler.js';

/** wFormatTag values from the WAVE spec (mmreg.h). */
const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
/** The real format tag then sits in the first bytes of the subformat GUID. */
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** The part of wavefile's untyped `fmt` chunk object that is read here. */
interface FmtChunk {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  bitsPerSample: number;
  subformat: number[];
}

/** Reads sample `index` of an interleaved buffer as a float in [-1, 1]. */
type SampleReader = (index: number) => number;

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

/** Checked before wavefile so that e.g. an MP3 gets a plain message, not a parser internal. */
function assertWavHeader(bytes: Uint8Array): void {
  const container = ascii(bytes, 0, 4);
  if (bytes.byteLength < 12 || !['RIFF', 'RIFX', 'RF64'].includes(container) || ascii(bytes, 8, 12) !== 'WAVE') {
    const start = JSON.stringify(ascii(bytes, 0, 12).replace(/[^\x20-\x7e]/g, '.'));
    throw new AudioFormatError(`not a WAV file: no RIFF/WAVE header (${bytes.byteLength} bytes starting ${start})`);
  }
}

/**
 * Integer PCM is stored left-justified in whole bytes (8-bit unsigned, wider signed), so dividing
 * by the container's full scale is right even for e.g. 20-bit audio in 3 bytes.
 */
function integerReader(view: DataView, containerBytes: number, bigEndian: boolean): SampleReader | null {
  switch (containerBytes) {
    case 1:
      return (i) => (view.getUint8(i) - 128) / 128;
    case 2:
      return (i) => view.getInt16(i * 2, !bigEndian) / 32768;
    case 3:
      return (i) => {
        const [lo, hi] = bigEndian ? [i * 3 + 2, i * 3] : [i * 3, i * 3 + 2];
        // The high byte carries the sign; the two lower bytes are unsigned.
        return (view.getInt8(hi) * 65536 + view.getUint8(i * 3 + 1) * 256 + view.getUint8(lo)) / 8388608;
      };
    case 4:
      return (i) => view.getInt32(i * 4, !bigEndian) / 2147483648;
    default:
      return null;
  }
}

function sampleReader(format: number, bitsPerSample: number, data: Uint8Array, bigEndian: boolean): SampleReader | null {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (format === WAVE_FORMAT_PCM) return integerReader(view, Math.ceil(bitsPerSample / 8), bigEndian);
  if (format === WAVE_FORMAT_IEEE_FLOAT && bitsPerSample === 32) return (i) => view.getFloat32(i * 4, !bigEndian);
  if (format === WAVE_FORMAT_IEEE_FLOAT && bitsPerSample === 64) return (i) => view.getFloat64(i * 8, !bigEndian);
  if ((format === WAVE_FORMAT_MULAW || format === WAVE_FORMAT_ALAW) && bitsPerSample === 8) {
    const pcm = decodeG711(data, format === WAVE_FORMAT_MULAW ? 'mulaw' : 'alaw');
    return (i) => pcm[i]! / 32768;
  }
  return null;
}

/**
 * Any common WAV to mono int16: 8/16/24/32-bit integer, 32/64-bit float, mu-law or a-law; several
 * channels are averaged into one. Throws AudioFormatError for anything else (e.g. ADPCM, which
 * nobody should feed a speech pipeline, and whose wavefile decoder pads the length).
 */
export function readWav(bytes: Uint8Array): { pcm: Int16Array; sampleRateHz: number } {
  assertWavHeader(bytes);
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (error) {
    throw new AudioFormatError(`not a WAV file: ${error instanceof Error ? error.message : String(error)}`);
  }
  const fmt = wav.fmt as FmtChunk;
  const format = fmt.audioFormat === WAVE_FORMAT_EXTENSIBLE ? (fmt.subformat[0] ?? 0) : fmt.audioFormat;
  const channels = fmt.numChannels;
  if (!(channels >= 1) || !(fmt.sampleRate >= 1)) {
    throw new AudioFormatError(`not a WAV file: ${channels} channels at ${fmt.sampleRate} Hz`);
  }
  const data = (wav.data as { samples: Uint8Array }).samples;
  const read = sampleReader(format, fmt.bitsPerSample, data, wav.container === 'RIFX');
  if (read === null) {
    throw new AudioFormatError(`unsupported WAV encoding: format tag ${format} with ${fmt.bitsPerSample} bits per sample`);
  }
  const bytesPerFrame = Math.ceil(fmt.bitsPerSample / 8) * channels;
  const frames = Math.floor(data.byteLength / bytesPerFrame); // a truncated last frame is dropped
  const pcm = new Int16Array(frames);
  for (let frame = 0; frame < frames; frame++) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel++) sum += read(frame * channels + channel);
    const value = Math.round((sum / channels) * 32768);
    pcm[frame] = value > 32767 ? 32767 : value < -32768 ? -32768 : value;
  }
  return { pcm, sampleRateHz: fmt.sampleRate };
}

/** A 16-bit mono PCM WAV file. */
export function writeWav(pcm: Int16Array, sampleRateHz: number): Uint8Array {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, sampleRateHz, '16', pcm);
  return wav.toBuffer();
}

/** readWav, then resampled to `targetRateHz` (for sending a file at the rate a server wants). */
export async function readWavAs(bytes: Uint8Array, targetRateHz: number): Promise<Int16Array> {
  const { pcm, sampleRateHz } = readWav(bytes);
  return resampleAll(pcm, sampleRateHz, targetRateHz);
}

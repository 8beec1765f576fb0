/** The RecognitionConfig a Riva stream opens with, from the gateway's settings. */
import { create } from '@bufbuild/protobuf';
import { AudioEncoding } from '../../gen/riva/proto/riva_audio_pb.js';
import { StreamingRecognitionConfigSchema, type StreamingRecognitionConfig } from '../../gen/riva/proto/riva_asr_pb.js';
import { ConfigError } from '../../config/load.js';

/** Riva's endpointing; unset fields keep the model's own (riva-build) values. Windows are ms. */
export interface RivaEndpointing {
  startHistoryMs?: number;
  startThreshold?: number;
  stopHistoryMs?: number;
  stopThreshold?: number;
  /** The first pass of the two-pass end of utterance: an interim with stability 1.0. */
  stopHistoryEouMs?: number;
  stopThresholdEou?: number;
}

export interface RivaRecognitionSettings {
  sampleRateHz: number;
  /** riva-build --name; empty lets the server pick one for the language. */
  model: string;
  automaticPunctuation: boolean;
  /** true: words as spoken; false: inverse text normalization ("twenty" -> "20"). */
  verbatimTranscripts: boolean;
  profanityFilter: boolean;
  boostedWords: string[];
  boostScore: number;
  endpointing: RivaEndpointing;
  /** Plugin options, e.g. { enable_vad_endpointing: 'true' }. */
  customConfiguration: Record<string, string>;
}

export function streamingConfig(settings: RivaRecognitionSettings, languageCode: string): StreamingRecognitionConfig {
  const e = settings.endpointing;
  const hasEndpointing = Object.values(e).some((v) => v !== undefined);
  return create(StreamingRecognitionConfigSchema, {
    interimResults: true,
    config: {
      encoding: AudioEncoding.LINEAR_PCM,
      sampleRateHertz: settings.sampleRateHz,
      languageCode,
      maxAlternatives: 1,
      audioChannelCount: 1,
      model: settings.model,
      enableAutomaticPunctuation: settings.automaticPunctuation,
      verbatimTranscripts: settings.verbatimTranscripts,
      profanityFilter: settings.profanityFilter,
      speechContexts: settings.boostedWords.length > 0 ? [{ phrases: settings.boostedWords, boost: settings.boostScore }] : [],
      customConfiguration: settings.customConfiguration,
      // Unset fields stay unset on the wire (proto3 optional): the model's defaults apply.
      endpointingConfig: hasEndpointing
        ? {
            startHistory: e.startHistoryMs,
            startThreshold: e.startThreshold,
            stopHistory: e.stopHistoryMs,
            stopThreshold: e.stopThreshold,
            stopHistoryEou: e.stopHistoryEouMs,
            stopThresholdEou: e.stopThresholdEou,
          }
        : undefined,
    },
  });
}

/** The first pass must come before the real end of utterance, or it is not a first pass. */
export function checkEndpointing(e: RivaEndpointing): void {
  if (e.stopHistoryEouMs !== undefined && e.stopHistoryMs !== undefined && e.stopHistoryEouMs >= e.stopHistoryMs) {
    throw new ConfigError(
      `RIVA_ASR_STOP_HISTORY_EOU_MS=${e.stopHistoryEouMs} must be shorter than RIVA_ASR_STOP_HISTORY_MS=${e.stopHistoryMs}: the early end of utterance comes before the final one`,
    );
  }
}

/** "key:value,key:value" (NVIDIA's client syntax) as a map; the value may itself hold colons. */
export function parseCustomConfiguration(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = item.indexOf(':');
    if (at <= 0) throw new ConfigError(`RIVA_ASR_CUSTOM_CONFIGURATION item ${JSON.stringify(item)} is not key:value: write e.g. enable_vad_endpointing:true,neural_vad.onset:0.65`);
    out[item.slice(0, at).trim()] = item.slice(at + 1).trim();
  }
  return out;
}

/**
 * The Riva providers the configuration asks for (`ASR_PROVIDER=riva`, `TTS_PROVIDER=riva`), on
 * channels shared by every session: one per distinct address.
 */
import type { Config } from '../../config/schema.js';
import { RivaRecognizer, type RivaAsrSettings } from './asr.js';
import { parseCustomConfiguration } from './asr-config.js';
import { RivaChannel, type RivaConnectionSettings } from './channel.js';
import { RivaSynthesizer, type RivaTtsSettings } from './tts.js';

export function rivaConnection(config: Config, service: 'asr' | 'tts'): RivaConnectionSettings {
  return {
    uri: service === 'tts' && config.RIVA_TTS_URI ? config.RIVA_TTS_URI : config.RIVA_URI,
    useTls: config.RIVA_USE_TLS,
    caFile: config.RIVA_CA_FILE,
    clientCertFile: config.RIVA_CLIENT_CERT_FILE,
    clientKeyFile: config.RIVA_CLIENT_KEY_FILE,
    apiKey: config.RIVA_API_KEY,
    functionIds: { asr: config.RIVA_FUNCTION_ID_ASR, tts: config.RIVA_FUNCTION_ID_TTS },
    maxMessageBytes: config.RIVA_MAX_MESSAGE_BYTES,
  };
}

/** The channels ASR and TTS use: the same one when they share an address. */
export function rivaChannels(config: Config): { asr: RivaChannel; tts: RivaChannel } {
  const asr = new RivaChannel(rivaConnection(config, 'asr'));
  const ttsSettings = rivaConnection(config, 'tts');
  return { asr, tts: ttsSettings.uri === asr.settings.uri ? asr : new RivaChannel(ttsSettings) };
}

export function rivaAsrSettings(config: Config): RivaAsrSettings {
  return {
    sampleRateHz: config.RIVA_ASR_SAMPLE_RATE,
    model: config.RIVA_ASR_MODEL,
    automaticPunctuation: config.RIVA_ASR_PUNCTUATION,
    verbatimTranscripts: config.RIVA_ASR_VERBATIM_TRANSCRIPTS,
    profanityFilter: config.RIVA_ASR_PROFANITY_FILTER,
    boostedWords: config.RIVA_ASR_BOOSTED_WORDS.split(',').map((w) => w.trim()).filter(Boolean),
    boostScore: config.RIVA_ASR_BOOST_SCORE,
    endpointing: {
      startHistoryMs: config.RIVA_ASR_START_HISTORY_MS,
      startThreshold: config.RIVA_ASR_START_THRESHOLD,
      stopHistoryMs: config.RIVA_ASR_STOP_HISTORY_MS,
      stopThreshold: config.RIVA_ASR_STOP_THRESHOLD,
      stopHistoryEouMs: config.RIVA_ASR_STOP_HISTORY_EOU_MS,
      stopThresholdEou: config.RIVA_ASR_STOP_THRESHOLD_EOU,
    },
    customConfiguration: parseCustomConfiguration(config.RIVA_ASR_CUSTOM_CONFIGURATION),
    chunkMs: config.RIVA_ASR_CHUNK_MS,
    keepaliveMs: config.RIVA_ASR_KEEPALIVE_MS,
    streamDeadlineMs: config.RIVA_ASR_STREAM_DEADLINE_MS,
    reconnectRetries: config.RIVA_ASR_RECONNECT_RETRIES,
    reconnectBackoffMs: config.RIVA_ASR_RECONNECT_BACKOFF_MS,
    replayMaxMs: config.RIVA_ASR_REPLAY_MAX_MS,
  };
}

export function rivaTtsSettings(config: Config): RivaTtsSettings {
  return { maxChars: config.TTS_MAX_PIECE_CHARS, timeoutMs: config.RIVA_TTS_TIMEOUT_MS, configTimeoutMs: config.RIVA_TIMEOUT_MS };
}

/** Riva ASR on the shared channel (its row in ../registry.ts). */
export function rivaRecognizer(config: Config, channels: { asr: RivaChannel }): RivaRecognizer {
  return new RivaRecognizer(channels.asr, rivaAsrSettings(config));
}

/** Riva TTS on the shared channel (its row in ../registry.ts). */
export function rivaSynthesizer(config: Config, channels: { tts: RivaChannel }): RivaSynthesizer {
  return new RivaSynthesizer(channels.tts, rivaTtsSettings(config));
}

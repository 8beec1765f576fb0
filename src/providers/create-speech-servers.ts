/**
 * The settings of the speech-server providers, from the configuration: OpenAI-compatible
 * (`ASR_PROVIDER=openai`, `TTS_PROVIDER=openai`: speaches, Kokoro-FastAPI, vLLM, LocalAI, OpenAI)
 * and Wyoming (`ASR_PROVIDER=wyoming`, `TTS_PROVIDER=wyoming`); their rows in ./registry.ts build
 * them from these. Settings that cannot work are a ConfigError, so `serve` stops with one line
 * saying what to set.
 */
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { OpenAiRecognizer, type OpenAiAsrSettings } from './asr/openai.js';
import { WyomingRecognizer, type WyomingAsrSettings } from './asr/wyoming.js';
import { OpenAiSynthesizer, type OpenAiTtsSettings } from './tts/openai.js';
import { WyomingSynthesizer, type WyomingTtsSettings } from './tts/wyoming.js';
import type { Providers } from './types.js';
import { parseWyomingUri } from './wyoming/connection.js';

export type SpeechServerKind = 'openai' | 'wyoming';

export function isSpeechServer(provider: string): provider is SpeechServerKind {
  return provider === 'openai' || provider === 'wyoming';
}

export function openAiAsrSettings(config: Config): OpenAiAsrSettings {
  if (!config.ASR_BASE_URL) throw new ConfigError('ASR_PROVIDER=openai needs ASR_BASE_URL, the OpenAI-compatible API, e.g. ASR_BASE_URL=http://127.0.0.1:8000/v1 (speaches)');
  if (!config.ASR_MODEL) throw new ConfigError('ASR_PROVIDER=openai needs ASR_MODEL, the transcription model, e.g. ASR_MODEL=Systran/faster-distil-whisper-small.en (speaches) or whisper-1 (OpenAI)');
  return {
    baseUrl: config.ASR_BASE_URL,
    apiKey: config.ASR_API_KEY || undefined,
    model: config.ASR_MODEL,
    stream: config.ASR_OPENAI_STREAM,
    partialIntervalMs: config.ASR_OPENAI_PARTIAL_INTERVAL_MS,
    maxUtteranceMs: config.ASR_MAX_UTTERANCE_MS,
    paddingMs: config.ASR_UTTERANCE_PADDING_MS,
    timeoutMs: config.ASR_TIMEOUT_MS,
    retries: config.ASR_RETRIES,
    maxResponseBytes: config.SPEECH_MAX_MESSAGE_BYTES,
  };
}

export function openAiTtsSettings(config: Config): OpenAiTtsSettings {
  if (!config.TTS_BASE_URL) throw new ConfigError('TTS_PROVIDER=openai needs TTS_BASE_URL, the OpenAI-compatible API, e.g. TTS_BASE_URL=http://127.0.0.1:8880/v1 (Kokoro-FastAPI)');
  if (!config.TTS_MODEL) throw new ConfigError('TTS_PROVIDER=openai needs TTS_MODEL, the speech model, e.g. TTS_MODEL=kokoro (Kokoro-FastAPI), speaches-ai/Kokoro-82M-v1.0-ONNX (speaches) or tts-1 (OpenAI)');
  return {
    baseUrl: config.TTS_BASE_URL,
    apiKey: config.TTS_API_KEY || undefined,
    model: config.TTS_MODEL,
    serverRateHz: config.TTS_OPENAI_SAMPLE_RATE,
    timeoutMs: config.TTS_TIMEOUT_MS,
    maxPieceAudioMs: config.TTS_MAX_PIECE_AUDIO_MS,
    maxResponseBytes: config.SPEECH_MAX_MESSAGE_BYTES,
    language: config.ASR_LANGUAGE,
    defaultVoice: config.TTS_VOICE,
  };
}

export function wyomingAsrSettings(config: Config): WyomingAsrSettings {
  return {
    address: parseWyomingUri(config.WYOMING_ASR_URI),
    model: config.ASR_MODEL,
    maxUtteranceMs: config.ASR_MAX_UTTERANCE_MS,
    paddingMs: config.ASR_UTTERANCE_PADDING_MS,
    timeoutMs: config.ASR_TIMEOUT_MS,
    retries: config.ASR_RETRIES,
    maxEventBytes: config.SPEECH_MAX_MESSAGE_BYTES,
  };
}

export function wyomingTtsSettings(config: Config): WyomingTtsSettings {
  return {
    address: parseWyomingUri(config.WYOMING_TTS_URI),
    timeoutMs: config.TTS_TIMEOUT_MS,
    maxPieceAudioMs: config.TTS_MAX_PIECE_AUDIO_MS,
    maxEventBytes: config.SPEECH_MAX_MESSAGE_BYTES,
  };
}

/** Only the kinds set to 'openai' or 'wyoming' (the doctor's round trip; the registry builds the gateway's). */
export function createSpeechServerProviders(config: Config): Partial<Providers> {
  const out: Partial<Providers> = {};
  const asr: string = config.ASR_PROVIDER;
  const tts: string = config.TTS_PROVIDER;
  if (asr === 'openai') out.asr = new OpenAiRecognizer(openAiAsrSettings(config));
  if (asr === 'wyoming') out.asr = new WyomingRecognizer(wyomingAsrSettings(config));
  if (tts === 'openai') out.tts = new OpenAiSynthesizer(openAiTtsSettings(config));
  if (tts === 'wyoming') out.tts = new WyomingSynthesizer(wyomingTtsSettings(config));
  return out;
}

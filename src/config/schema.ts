/**
 * Every setting of the gateway in one table: its environment variable, its type and bounds, its
 * default and what it does. The CLI derives its flags and `--help` from this table, so the schema
 * is the documentation.
 */
import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const sampleRateHz = int(8000, 48000);

export interface SettingSpec {
  schema: z.ZodType;
  default: string | undefined;
  /** What `--help` shows; say the unit and what is accepted. */
  help: string;
  /** Holds a secret: never printed or logged. */
  secret?: boolean;
}

export const SETTINGS = {
  HOST: { schema: z.string().min(1), default: '0.0.0.0', help: 'Address the servers listen on' },
  GRPC_PORT: { schema: int(0, 65535), default: '50051', help: 'gRPC port (VoiceGateway, health, reflection)' },
  HTTP_PORT: { schema: int(0, 65535), default: '8080', help: 'HTTP port (GET /healthz)' },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    help: 'Log level',
  },

  VAD_PROVIDER: { schema: z.enum(['silero']), default: 'silero', help: 'Voice activity detector' },
  VAD_MODEL: { schema: z.enum(['legacy', 'v5']), default: 'legacy', help: 'Silero model version' },
  VAD_THRESHOLD: { schema: num(0.05, 0.99), default: '0.5', help: 'Speech probability that starts speech' },
  VAD_NEG_THRESHOLD: { schema: num(0.01, 0.99), default: '0.35', help: 'Speech probability below which audio is silence' },
  VAD_MIN_SPEECH_MS: { schema: int(0, 2000), default: '100', help: 'Speech shorter than this (ms) is noise' },
  VAD_MIN_SILENCE_MS: { schema: int(32, 5000), default: '300', help: 'Silence (ms) that ends a stretch of speech' },

  ASR_PROVIDER: { schema: z.enum(['pocketsphinx']), default: 'pocketsphinx', help: 'Speech recognizer' },
  ASR_LANGUAGE: { schema: z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/), default: 'en-US', help: 'Default BCP-47 language of user speech' },
  ASR_SAMPLE_RATE: { schema: sampleRateHz, default: '16000', help: 'Default input sample rate (Hz) when a client does not say' },
  ASR_FINAL_WAIT_MS: { schema: int(50, 10000), default: '1500', help: 'Longest wait (ms) for a final transcript after the turn ended' },

  TTS_PROVIDER: { schema: z.enum(['espeak']), default: 'espeak', help: 'Speech synthesizer' },
  TTS_VOICE: { schema: z.string(), default: '', help: 'Default voice; empty picks one for the language' },
  TTS_SAMPLE_RATE: { schema: sampleRateHz, default: '16000', help: 'Default output sample rate (Hz)' },
  TTS_MAX_PIECE_CHARS: { schema: int(20, 2000), default: '200', help: 'Longest text (chars) sent to TTS at once' },

  LLM_PROVIDER: { schema: z.enum(['openai']), default: 'openai', help: 'Language model: openai = any OpenAI-compatible server (NIM, vLLM, Ollama, llama.cpp)' },
  LLM_BASE_URL: { schema: z.url({ protocol: /^https?$/ }), default: 'http://127.0.0.1:8000/v1', help: 'Base URL of the OpenAI-compatible API' },
  LLM_API_KEY: { schema: z.string(), default: '', help: 'Bearer key for the LLM API (empty: none)', secret: true },
  LLM_MODEL: { schema: z.string().min(1), default: 'meta/llama-3.1-8b-instruct', help: 'Model name' },
  LLM_TEMPERATURE: { schema: num(0, 2), default: '0.5', help: 'Sampling temperature' },
  LLM_MAX_TOKENS: { schema: int(1, 32768), default: '1024', help: 'Longest reply (tokens)' },
  LLM_SYSTEM_PROMPT: {
    schema: z.string().max(20000),
    default: 'You are a helpful voice assistant. Answer briefly in plain spoken sentences, without lists or markdown.',
    help: 'System prompt (a session may replace it)',
  },
  LLM_REQUEST_TIMEOUT_MS: { schema: int(100, 600000), default: '30000', help: 'Longest wait (ms) for the LLM to start answering' },

  TURN_END_SOURCE: { schema: z.enum(['asr', 'vad', 'commit']), default: 'vad', help: 'What ends the user turn: asr (recognizer endpointing), vad (silence), commit (push-to-talk)' },
  TURN_END_SILENCE_MS: { schema: int(100, 5000), default: '500', help: 'Silence (ms) that ends the turn when VAD decides' },
  BARGE_IN_MIN_SPEECH_MS: { schema: int(0, 5000), default: '250', help: 'User speech (ms) during a reply that interrupts it' },
  BARGE_IN_ENABLED: { schema: bool, default: 'true', help: 'Let user speech interrupt replies' },
  CANCEL_BUDGET_MS: { schema: int(10, 10000), default: '300', help: 'A provider still busy this long (ms) after abort is abandoned' },

  SESSION_MAX_DURATION_MS: { schema: int(1000, 86400000), default: '3600000', help: 'Longest session (ms)' },
  SESSION_IDLE_TIMEOUT_MS: { schema: int(1000, 3600000), default: '60000', help: 'A session with no client message this long (ms) is closed' },
  MAX_MESSAGE_BYTES: { schema: int(1024, 67108864), default: '1048576', help: 'Largest client message (bytes)' },
  MAX_TEXT_CHARS: { schema: int(1, 100000), default: '4000', help: 'Longest typed user message (chars)' },
  INBOUND_QUEUE_MAX_MESSAGES: { schema: int(8, 100000), default: '500', help: 'Client messages waiting to be processed before the session is closed' },
  OUTBOUND_QUEUE_MAX_BYTES: { schema: int(65536, 1073741824), default: '16777216', help: 'Bytes waiting for a slow client before it is disconnected' },
} satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
export type Config = { [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']> };

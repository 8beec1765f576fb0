/**
 * Every setting of the gateway in one table: its environment variable, its type and bounds, its
 * default and what it does. The CLI derives its flags and `--help` from this table, so the schema
 * is the documentation.
 */
import { z } from 'zod';
import { DEFAULT_TURN_MODEL_SHA256, DEFAULT_TURN_MODEL_URL } from '../providers/turn/model-file.js';
import { TURN_KNOBS, type BoolKnob, type ChoiceKnob, type FractionKnob, type IntKnob } from '../core/turn-config.js';
import { vendorNames, vendorSummaries } from '../providers/vendor-list.js';
import { mcpServersSetting } from './mcp-servers.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const sampleRateHz = int(8000, 48000);
/** A turn-taking knob's setting: bounds, default and help from its row in core/turn-config.ts. */
const intKnob = (k: IntKnob) => ({ schema: int(k.min, k.max), default: String(k.default), help: k.help });
const fractionKnob = (k: FractionKnob) => ({ schema: num(k.min, k.max), default: String(k.default), help: k.help });
const boolKnob = (k: BoolKnob) => ({ schema: bool, default: String(k.default), help: k.help });
const choiceKnob = <T extends string>(k: ChoiceKnob<T>) => ({ schema: z.enum(k.values), default: k.default, help: k.help });
/** An optional value: empty leaves it unset (undefined), e.g. for the backend's own default. */
const unsetOr = <T extends z.ZodType>(schema: T) => z.union([z.literal('').transform(() => undefined), schema]);
/** Ascending positive seconds separated by commas, at most 50 (histogram buckets). */
const secondsList = z.string().transform((text, ctx) => {
  const values = text.split(',').map((part) => Number(part.trim()));
  const ascending = values.every((v, i) => Number.isFinite(v) && v > 0 && (i === 0 || v > values[i - 1]!));
  if (!ascending || values.length > 50) {
    ctx.addIssue({ code: 'custom', message: 'expected 1 to 50 ascending positive numbers of seconds separated by commas, e.g. 0.05,0.1,0.25' });
    return z.NEVER;
  }
  return values;
});

/** Web origins (scheme://host[:port]) separated by commas, or `*` (ALLOWED_ORIGINS). */
const originList = z.string().transform((text, ctx) => {
  const origins = text.split(',').map((part) => part.trim()).filter(Boolean);
  for (const origin of origins) {
    let valid = origin === '*';
    try {
      valid ||= new URL(origin).origin === origin;
    } catch {
      valid = false;
    }
    if (!valid) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(origin.slice(0, 100))} is not an origin: expected scheme://host[:port] with no path, e.g. https://app.example.com, or *` });
      return z.NEVER;
    }
  }
  return origins;
});

/** `{"en": ["One moment."], ...}`: phrases by language tag, at most 16 of 200 characters each. */
const fillerPhrases = z.string().transform((text, ctx): Record<string, string[]> => {
  if (!text.trim()) return {};
  const parsed = z.record(z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/), z.array(z.string().min(1).max(200)).max(16)).safeParse((() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  })());
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: 'expected JSON like {"en": ["One moment.", "Still on it."]}: language tags to lists of phrases' });
    return z.NEVER;
  }
  return Object.fromEntries(Object.entries(parsed.data).map(([tag, phrases]) => [tag.toLowerCase(), phrases]));
});

/**
 * The default local model: Qwen2.5-0.5B-Instruct, Q4_K_M (a few hundred MB, Apache-2.0), from
 * Qwen's own repository: small enough for a laptop CPU, instruct-tuned, with a chat template
 * node-llama-cpp knows. Its sha256 is not pinned (LLM_MODEL_SHA256 empty): it could not be
 * confirmed from the offline machine this was written on, and a wrong pin would refuse every
 * download. The gateway prints the sha256 of what it downloaded; whoever downloads it first
 * should compare it with the SHA256 on the file's huggingface.co page and pin it here.
 */
const DEFAULT_LLM_MODEL_URL = 'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf';

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
  HTTP_PORT: { schema: int(0, 65535), default: '8080', help: 'HTTP port (GET /healthz, GET /metrics, the web client at /, WebSocket /v1/voice)' },
  TLS_CERT_FILE: { schema: z.string(), default: '', help: 'PEM certificate (chain) file: with TLS_KEY_FILE the HTTP port serves HTTPS and WSS (empty: plain HTTP)' },
  TLS_RELOAD_INTERVAL_MS: { schema: int(1000, 86400000), default: '60000', help: 'How often (ms) the TLS files are checked for a renewed certificate' },
  TLS_KEY_FILE: { schema: z.string(), default: '', help: 'PEM private key file of TLS_CERT_FILE' },
  WEB_CLIENT_ENABLED: { schema: bool, default: 'true', help: 'Serve the browser client at / on the HTTP port' },
  WEB_CLIENT_DIR: { schema: z.string(), default: '', help: 'Folder the browser client is served from (empty: the one built into the package, dist/web)' },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    help: 'Log level (JSON lines; what users said appears only at debug)',
  },
  METRICS_LATENCY_BUCKETS_S: {
    schema: secondsList,
    default: '0.01,0.025,0.05,0.075,0.1,0.15,0.2,0.25,0.3,0.4,0.5,0.75,1,1.5,2,3,5,10',
    help: 'Upper bounds (seconds) of the buckets of the latency histograms on /metrics',
  },
  OTEL_TRACES_EXPORTER: {
    schema: z.enum(['', 'otlp', 'console', 'none']),
    default: '',
    help: 'Traces: otlp (OTLP http/protobuf, configured by the standard OTEL_EXPORTER_OTLP_* variables), console, or none; empty: on only if OTEL_EXPORTER_OTLP_ENDPOINT is set',
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    schema: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]),
    default: '',
    help: 'OTLP collector base URL, e.g. http://127.0.0.1:4318 (traces go to /v1/traces); setting it turns tracing on',
  },
  TRACE_INCLUDE_TEXT: { schema: bool, default: 'false', help: 'Put transcripts and reply text on trace spans (they are personal data)' },

  VAD_PROVIDER: { schema: z.enum(vendorNames('vad')), default: 'silero', help: `Voice activity detector: ${vendorSummaries('vad')}` },
  VAD_MODEL: { schema: z.enum(['legacy', 'v5']), default: 'legacy', help: 'Silero model version' },
  VAD_THRESHOLD: fractionKnob(TURN_KNOBS.vadThreshold),
  VAD_NEG_THRESHOLD: fractionKnob(TURN_KNOBS.vadNegThreshold),
  VAD_MIN_SPEECH_MS: intKnob(TURN_KNOBS.vadMinSpeechMs),
  VAD_MIN_SILENCE_MS: intKnob(TURN_KNOBS.vadMinSilenceMs),

  ASR_PROVIDER: { schema: z.enum(vendorNames('asr')), default: 'pocketsphinx', help: `Speech recognizer: ${vendorSummaries('asr')}` },
  ASR_LANGUAGE: { schema: z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/), default: 'en-US', help: 'Default BCP-47 language of user speech' },
  ASR_SAMPLE_RATE: { schema: sampleRateHz, default: '16000', help: 'Default input sample rate (Hz) when a client does not say' },
  ASR_FINAL_WAIT_MS: intKnob(TURN_KNOBS.asrFinalWaitMs),
  ASR_BASE_URL: { schema: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]), default: '', help: 'ASR_PROVIDER=openai: base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1 (speaches)' },
  ASR_API_KEY: { schema: z.string(), default: '', help: 'ASR_PROVIDER=openai: Bearer key of the transcription API (empty: none)', secret: true },
  ASR_MODEL: { schema: z.string(), default: '', help: 'ASR_PROVIDER=openai: the transcription model, e.g. Systran/faster-distil-whisper-small.en (speaches), openai/whisper-large-v3 (vLLM), whisper-1 (OpenAI); wyoming: the model name sent with transcribe (empty: the server\'s)' },
  ASR_OPENAI_STREAM: { schema: bool, default: 'true', help: 'ASR_PROVIDER=openai: ask for the transcript as SSE deltas (stream=true), which become partials; servers that do not stream answer JSON, which works too. false for servers that fail on it (speaches\' parakeet models)' },
  ASR_OPENAI_PARTIAL_INTERVAL_MS: { schema: int(0, 30000), default: '2000', help: 'ASR_PROVIDER=openai: while an utterance lasts longer than this (ms), its audio so far is transcribed again every time it grows by this much, for partial transcripts (one request at a time; 0: finals only)' },
  ASR_MAX_UTTERANCE_MS: { schema: int(5000, 120000), default: '30000', help: 'ASR_PROVIDER=openai or wyoming: an utterance is cut and transcribed on its own at this length (ms), so one request carries at most this much audio (Whisper reads 30 s at a time)' },
  ASR_UTTERANCE_PADDING_MS: { schema: int(0, 1000), default: '300', help: 'ASR_PROVIDER=openai or wyoming: audio (ms) before the VAD\'s start of speech sent with each utterance, so its first sound is not clipped' },
  ASR_TIMEOUT_MS: { schema: int(100, 600000), default: '15000', help: 'ASR_PROVIDER=openai or wyoming: longest time (ms) one utterance\'s transcription may take, connection included' },
  ASR_RETRIES: { schema: int(0, 5), default: '1', help: 'ASR_PROVIDER=openai or wyoming: an utterance whose transcription failed on the way (connection refused or dropped, HTTP 502/503/504) is sent again this many times' },
  WYOMING_ASR_URI: { schema: z.string().regex(/^(tcp:\/\/)?(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/, 'expected tcp://host:port'), default: 'tcp://127.0.0.1:10300', help: 'ASR_PROVIDER=wyoming: the Wyoming speech-to-text server, tcp://host:port (wyoming-faster-whisper listens on 10300)' },

  TTS_PROVIDER: { schema: z.enum(vendorNames('tts')), default: 'espeak', help: `Speech synthesizer: ${vendorSummaries('tts')}` },
  TTS_VOICE: { schema: z.string(), default: '', help: 'Default voice; empty picks one for the language' },
  TTS_SAMPLE_RATE: { schema: sampleRateHz, default: '16000', help: 'Default output sample rate (Hz)' },
  TTS_MAX_PIECE_CHARS: intKnob(TURN_KNOBS.maxPieceChars),
  TTS_BASE_URL: { schema: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]), default: '', help: 'TTS_PROVIDER=openai: base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8880/v1 (Kokoro-FastAPI)' },
  TTS_API_KEY: { schema: z.string(), default: '', help: 'TTS_PROVIDER=openai: Bearer key of the speech API (empty: none)', secret: true },
  TTS_MODEL: { schema: z.string(), default: '', help: 'TTS_PROVIDER=openai: the speech model, e.g. kokoro (Kokoro-FastAPI), speaches-ai/Kokoro-82M-v1.0-ONNX (speaches), tts-1 (OpenAI)' },
  TTS_OPENAI_SAMPLE_RATE: { schema: sampleRateHz, default: '24000', help: 'TTS_PROVIDER=openai: rate (Hz) of the raw PCM the server sends (OpenAI and Kokoro: 24000; speaches: its model\'s rate, e.g. 22050 for a Piper voice); the gateway resamples it to each session\'s rate' },
  TTS_TIMEOUT_MS: { schema: int(100, 600000), default: '15000', help: 'TTS_PROVIDER=openai or wyoming: longest wait (ms) for the first audio of a piece of text, and between two chunks of it' },
  TTS_MAX_PIECE_AUDIO_MS: { schema: int(1000, 600000), default: '60000', help: 'TTS_PROVIDER=openai or wyoming: a server that sends more audio (ms) than this for one piece of text is cut off there' },
  WYOMING_TTS_URI: { schema: z.string().regex(/^(tcp:\/\/)?(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/, 'expected tcp://host:port'), default: 'tcp://127.0.0.1:10200', help: 'TTS_PROVIDER=wyoming: the Wyoming text-to-speech server, tcp://host:port (wyoming-piper listens on 10200)' },
  SPEECH_MAX_MESSAGE_BYTES: { schema: int(65536, 268435456), default: '4194304', help: 'Largest message (bytes) taken from an OpenAI-compatible or Wyoming speech server: a transcription answer, one Wyoming event' },

  RIVA_URI: { schema: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/, 'expected host:port'), default: '127.0.0.1:50051', help: 'Riva (or speech NIM) gRPC address, host:port; NVIDIA-hosted: grpc.nvcf.nvidia.com:443 with RIVA_USE_TLS=true' },
  RIVA_TTS_URI: { schema: z.union([z.literal(''), z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/, 'expected host:port')]), default: '', help: 'Riva TTS address when TTS runs elsewhere than ASR (e.g. two speech NIMs); empty: RIVA_URI' },
  RIVA_USE_TLS: { schema: bool, default: 'false', help: 'Talk TLS to Riva (the RIVA_*_FILE settings imply it)' },
  RIVA_CA_FILE: { schema: z.string(), default: '', help: 'PEM CA certificates that sign the Riva server certificate (empty: the system roots)' },
  RIVA_CLIENT_CERT_FILE: { schema: z.string(), default: '', help: 'PEM client certificate for Riva (mutual TLS), with RIVA_CLIENT_KEY_FILE' },
  RIVA_CLIENT_KEY_FILE: { schema: z.string(), default: '', help: 'PEM private key of RIVA_CLIENT_CERT_FILE' },
  RIVA_API_KEY: { schema: z.string(), default: '', help: 'Sent to Riva as authorization: Bearer <key> (NVIDIA-hosted: an nvapi- key)', secret: true },
  RIVA_FUNCTION_ID_ASR: { schema: z.string(), default: '', help: 'NVIDIA-hosted: the function-id of the ASR function (see build.nvidia.com)' },
  RIVA_FUNCTION_ID_TTS: { schema: z.string(), default: '', help: 'NVIDIA-hosted: the function-id of the TTS function' },
  RIVA_MAX_MESSAGE_BYTES: { schema: int(4194304, 1073741824), default: '67108864', help: 'Largest gRPC message (bytes) to and from Riva (NVIDIA clients use 64 MiB)' },
  RIVA_TIMEOUT_MS: { schema: int(100, 600000), default: '10000', help: 'Deadline (ms) of short Riva calls: health, model and voice lists' },
  RIVA_ASR_MODEL: { schema: z.string(), default: '', help: 'Riva ASR model (riva-build --name); empty: the server picks one for the language' },
  RIVA_ASR_SAMPLE_RATE: { schema: sampleRateHz, default: '16000', help: 'Highest sample rate (Hz) of the audio sent to Riva ASR: input above it is resampled to it; input from 8 kHz up to it (phone calls) goes as it is, Riva resamples' },
  RIVA_ASR_PUNCTUATION: { schema: bool, default: 'true', help: 'Riva adds punctuation and capitals' },
  RIVA_ASR_VERBATIM_TRANSCRIPTS: { schema: bool, default: 'true', help: 'Words as spoken (true, as NVIDIA clients send) or inverse-normalized "25" (false; finals then differ more from interims, so speculative starts miss more)' },
  RIVA_ASR_PROFANITY_FILTER: { schema: bool, default: 'false', help: 'Riva masks profanities' },
  RIVA_ASR_BOOSTED_WORDS: { schema: z.string(), default: '', help: 'Words or phrases Riva should favour, comma separated' },
  RIVA_ASR_BOOST_SCORE: { schema: num(0, 100), default: '4', help: 'Boost of RIVA_ASR_BOOSTED_WORDS (NVIDIA clients: 4; their docs advise 20-100 for stronger effect)' },
  RIVA_ASR_START_HISTORY_MS: { schema: unsetOr(int(0, 10000)), default: '', help: 'Endpointing: window (ms) for the start of an utterance (empty: the model default)' },
  RIVA_ASR_START_THRESHOLD: { schema: unsetOr(num(0, 1)), default: '', help: 'Endpointing: share of speech frames in that window that starts an utterance (empty: the model default)' },
  RIVA_ASR_STOP_HISTORY_MS: { schema: unsetOr(int(0, 10000)), default: '480', help: 'Endpointing: silence window (ms) that ends an utterance with a final (multiples of 80; empty: the model default)' },
  RIVA_ASR_STOP_THRESHOLD: { schema: unsetOr(num(0, 1)), default: '', help: 'Endpointing: share of silent frames in that window that ends the utterance (empty: the model default)' },
  RIVA_ASR_STOP_HISTORY_EOU_MS: { schema: unsetOr(int(0, 10000)), default: '240', help: 'Endpointing: shorter silence window (ms) of the early end of utterance, which sends a stable interim that may start the reply (SPECULATIVE_START); empty: off' },
  RIVA_ASR_STOP_THRESHOLD_EOU: { schema: unsetOr(num(0, 1)), default: '', help: 'Endpointing: share of silent frames for the early end of utterance (empty: the model default)' },
  RIVA_ASR_CUSTOM_CONFIGURATION: { schema: z.string(), default: '', help: 'Riva custom_configuration as key:value,key:value, e.g. enable_vad_endpointing:true,neural_vad.onset:0.65' },
  RIVA_ASR_CHUNK_MS: { schema: int(10, 1000), default: '100', help: 'Audio (ms) per message to Riva ASR' },
  RIVA_ASR_KEEPALIVE_MS: { schema: int(100, 600000), default: '5000', help: 'Silence is sent to Riva when no audio came for this long (ms), so it keeps the stream open' },
  RIVA_ASR_STREAM_DEADLINE_MS: { schema: int(1000, 86400000), default: '600000', help: 'Deadline (ms) of one Riva recognition call; past half of it the call is replaced between utterances' },
  RIVA_ASR_RECONNECT_RETRIES: { schema: int(0, 100), default: '3', help: 'A dropped Riva stream is reopened this many times in a row (reset by an answer) before the turn fails with asr_unavailable' },
  RIVA_ASR_RECONNECT_BACKOFF_MS: { schema: int(0, 60000), default: '200', help: 'Wait (ms) before reopening a dropped Riva stream, doubled for each further try' },
  RIVA_ASR_REPLAY_MAX_MS: { schema: int(0, 120000), default: '15000', help: 'Audio (ms) since the last final kept to send again to a reopened Riva stream, so a drop loses no words' },
  RIVA_TTS_TIMEOUT_MS: { schema: int(100, 600000), default: '20000', help: 'Deadline (ms) of one Riva synthesis call (one piece of text)' },

  LLM_PROVIDER: { schema: z.enum(['auto', ...vendorNames('llm')]), default: 'auto', help: `Language model: ${vendorSummaries('llm')}; auto = openai when LLM_BASE_URL is set, else llama-cpp` },
  LLM_BASE_URL: { schema: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]), default: '', help: 'Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1 (empty: none)' },
  LLM_API_KEY: { schema: z.string(), default: '', help: 'Bearer key for the LLM API (empty: none)', secret: true },
  LLM_MODEL: { schema: z.string().min(1), default: 'meta/llama-3.1-8b-instruct', help: 'Model name' },
  LLM_TEMPERATURE: { schema: num(0, 2), default: '0.5', help: 'Sampling temperature' },
  LLM_MAX_TOKENS: { schema: int(1, 32768), default: '1024', help: 'Longest reply (tokens)' },
  LLM_CONTEXT_TOKENS: {
    schema: int(256, 10000000),
    default: '16384',
    help: 'Most tokens of conversation sent to the LLM, estimated as 4 characters a token plus 4 a message; past it the oldest turns are left out (never the system prompt). Keep it below the model context less LLM_MAX_TOKENS',
  },
  LLM_SYSTEM_PROMPT: {
    schema: z.string().max(20000),
    default: 'You are a helpful voice assistant. Answer briefly in plain spoken sentences, without lists or markdown.',
    help: 'System prompt (a session may replace it)',
  },
  LLM_REQUEST_TIMEOUT_MS: { schema: int(100, 600000), default: '30000', help: 'Longest wait (ms) for the LLM to start answering' },
  LLM_STREAM_IDLE_TIMEOUT_MS: { schema: int(0, 600000), default: '10000', help: 'An OpenAI-compatible reply stream that sends nothing this long (ms) has stalled: the turn fails with llm_unavailable (0: no limit)' },
  LLM_MODEL_PATH: { schema: z.string(), default: '', help: 'llama-cpp: a GGUF model file to run (empty: the default model, downloaded once into LLM_CACHE_DIR)' },
  LLM_MODEL_URL: { schema: z.url({ protocol: /^https?$/ }), default: DEFAULT_LLM_MODEL_URL, help: 'llama-cpp: where the default GGUF model is downloaded from when LLM_MODEL_PATH is empty' },
  LLM_MODEL_SHA256: { schema: z.union([z.literal(''), z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits')]), default: '', help: 'llama-cpp: sha256 the downloaded model must have (empty: not checked; the sha256 is printed after the download)' },
  LLM_CACHE_DIR: { schema: z.string().min(1), default: '~/.cache/voice-gateway/models', help: 'llama-cpp: folder of downloaded models' },
  LLM_DOWNLOAD_STALL_MS: { schema: int(1000, 600000), default: '30000', help: 'llama-cpp: a model download that receives nothing this long (ms) is abandoned' },
  LLM_THREADS: { schema: int(1, 256), default: '1', help: 'llama-cpp: CPU threads of one evaluation (on a 2-core machine 2 threads were measured 30x slower than 1)' },
  LLM_CONTEXT_SIZE: { schema: int(1024, 131072), default: '4096', help: 'llama-cpp: tokens one conversation holds (older turns are shifted out past it)' },
  LLM_SEQUENCES: { schema: int(1, 64), default: '4', help: 'llama-cpp: replies generated at once (each holds LLM_CONTEXT_SIZE tokens of memory); more wait up to LLM_REQUEST_TIMEOUT_MS' },

  MCP_SERVERS: {
    schema: mcpServersSetting,
    default: '',
    help: 'MCP servers whose tools the model may call, as JSON: [{"name":"shop","url":"http://host:3001/mcp","allow":["lookup_order"],"headers":{"Authorization":"Bearer ${SHOP_TOKEN}"}}] ("allow": the tool names, or ["*"]; ${NAME} in headers comes from the environment; optional "timeoutMs" and "toolTimeoutsMs")',
    secret: true,
  },
  MCP_CONNECT_TIMEOUT_MS: { schema: int(100, 600000), default: '5000', help: 'Longest wait (ms) to connect to an MCP server and list its tools' },
  MCP_REFRESH_INTERVAL_MS: { schema: int(0, 86400000), default: '300000', help: 'How often (ms) MCP tool lists are read again and servers that were down retried (0: only when a server says its list changed)' },
  TOOL_MAX_ROUNDS: intKnob(TURN_KNOBS.toolMaxRounds),
  TOOL_TIMEOUT_MS: intKnob(TURN_KNOBS.toolTimeoutMs),
  TOOL_FILLER_AFTER_MS: intKnob(TURN_KNOBS.toolFillerAfterMs),
  TOOL_ARGUMENT_RETRIES: intKnob(TURN_KNOBS.toolArgumentRetries),
  TOOL_RESULT_MAX_BYTES: { schema: int(256, 10485760), default: '16384', help: 'Largest tool result (bytes) the model is given: a client result over it is refused, a server result is cut' },
  TOOL_DECLARATIONS_MAX_BYTES: { schema: int(1024, 10485760), default: '65536', help: "Largest total size (bytes of JSON) of a session's tool declarations" },
  TOOL_FILLER_PHRASES: {
    schema: fillerPhrases,
    default: '',
    help: 'Filler phrases while a tool runs, by language, as JSON: {"en":["One moment.","Still on it."],"hi":["..."]} (adds to or replaces the built-in en, de, fr, es, it, pt, nl; a language with none gets no filler)',
  },
  TOOL_ACTIVITY_DETAIL: { schema: bool, default: 'false', help: "tool_activity events carry the server tools' arguments and results (else only name, duration and outcome)" },

  SIM_PROFILE: { schema: z.string().min(1), default: 'nvidia-blueprint', help: 'Latencies of the simulated providers: a built-in (nvidia-blueprint, zero-latency) or a JSON file' },

  TURN_END_SOURCE: choiceKnob(TURN_KNOBS.endOfTurnSource),
  TURN_END_SILENCE_MS: intKnob(TURN_KNOBS.endOfTurnSilenceMs),
  BARGE_IN_MIN_SPEECH_MS: intKnob(TURN_KNOBS.bargeInMinSpeechMs),
  BARGE_IN_ENABLED: boolKnob(TURN_KNOBS.bargeInEnabled),
  CANCEL_BUDGET_MS: intKnob(TURN_KNOBS.cancelBudgetMs),
  TURN_MAX_SPEECH_MS: intKnob(TURN_KNOBS.turnMaxSpeechMs),
  SPECULATIVE_START: boolKnob(TURN_KNOBS.speculativeStart),
  TURN_END_MAX_SILENCE_MS: intKnob(TURN_KNOBS.endOfTurnMaxSilenceMs),
  INTERRUPTION_MODE: choiceKnob(TURN_KNOBS.interruptionMode),
  BARGE_IN_MIN_WORDS: intKnob(TURN_KNOBS.bargeInMinWords),
  FALSE_INTERRUPTION_TIMEOUT_MS: intKnob(TURN_KNOBS.falseInterruptionTimeoutMs),
  TURN_MODEL_THRESHOLD: fractionKnob(TURN_KNOBS.smartTurnThreshold),
  TURN_MODEL_PATH: { schema: z.string(), default: '', help: 'smart_turn: the Smart Turn v3 ONNX file (set: loaded at start, so sessions may ask for smart_turn; empty: the default model, downloaded once into TURN_MODEL_CACHE_DIR when TURN_END_SOURCE=smart_turn)' },
  TURN_MODEL_URL: { schema: z.url({ protocol: /^https?$/ }), default: DEFAULT_TURN_MODEL_URL, help: 'smart_turn: where the default model is downloaded from when TURN_MODEL_PATH is empty' },
  TURN_MODEL_SHA256: { schema: z.union([z.literal(''), z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits')]), default: DEFAULT_TURN_MODEL_SHA256, help: 'smart_turn: sha256 the downloaded model must have' },
  TURN_MODEL_CACHE_DIR: { schema: z.string().min(1), default: '~/.cache/voice-gateway/models', help: 'smart_turn: folder of downloaded models' },

  AUTH_MODE: { schema: z.enum(['none', 'api_key', 'jwt']), default: 'none', help: 'Who may open sessions, on every transport: none, api_key (API_KEYS), jwt (JWT_*)' },
  API_KEYS: { schema: z.string(), default: '', help: 'Allowed API keys as name:sha256hex entries, comma separated (make one: voice-gateway new-key NAME)' },
  JWT_JWKS_URL: { schema: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]), default: '', help: 'JWKS URL that verifies JWTs (AUTH_MODE=jwt)' },
  JWT_PUBLIC_KEY_FILE: { schema: z.string(), default: '', help: 'PEM public key that verifies JWTs, when no JWKS URL' },
  JWT_ALGORITHM: { schema: z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA']), default: 'RS256', help: 'Algorithm of JWT_PUBLIC_KEY_FILE' },
  JWT_ISSUER: { schema: z.string(), default: '', help: 'Required JWT issuer (empty: any)' },
  JWT_AUDIENCE: { schema: z.string(), default: '', help: 'The audience (aud) a JWT must be for: required with AUTH_MODE=jwt, so that tokens issued for other services are refused' },
  JWT_MAX_LIFETIME_S: { schema: int(60, 2592000), default: '86400', help: 'Longest lifetime (s) of an accepted JWT, exp - iat (exp - now without iat); a token without exp is refused' },
  JWT_PRINCIPAL_CLAIM: { schema: z.string().regex(/^[\w.:-]{1,64}$/, 'expected a claim name'), default: 'sub', help: 'The JWT claim that names the holder (per-holder limits and logs); a token without it is refused' },
  MAX_SESSIONS: {
    schema: unsetOr(int(0, 1000000)),
    default: '',
    help: 'Sessions the process holds at most; empty: derived from this machine (half of the memory, or the container limit, at 32 MiB per session, and 200 per core: the smaller); 0: no cap',
  },
  KEY_MAX_SESSIONS: { schema: int(0, 1000000), default: '0', help: 'Concurrent sessions per API key or JWT subject (0: no cap)' },
  KEY_MAX_NEW_SESSIONS_PER_MINUTE: { schema: int(0, 1000000), default: '0', help: 'New sessions per minute per API key or JWT subject (0: no cap)' },
  DRAIN_GRACE_MS: { schema: int(0, 3600000), default: '30000', help: 'On SIGTERM, time (ms) active sessions get to finish before clients are told to reconnect' },
  SESSION_MAX_DURATION_MS: { schema: int(1000, 86400000), default: '3600000', help: 'Longest session (ms)' },
  SESSION_IDLE_TIMEOUT_MS: { schema: int(1000, 3600000), default: '60000', help: 'A session with no client message this long (ms) is closed; messages the session refuses do not count' },
  START_TIMEOUT_MS: { schema: int(100, 600000), default: '10000', help: 'A connection that sends no valid start message within this (ms) is closed' },
  MAX_MESSAGE_BYTES: { schema: int(1024, 67108864), default: '1048576', help: 'Largest client message (bytes)' },
  REALTIME_MAX_FRAME_BYTES: {
    schema: int(1024, 268435456),
    default: '2097152',
    help: 'OpenAI Realtime endpoint: a frame over MAX_MESSAGE_BYTES gets an error event, one over this (bytes) closes the socket (1009); every socket may buffer this much',
  },
  REALTIME_PENDING_ANSWERS_MAX_BYTES: { schema: int(65536, 268435456), default: '1048576', help: 'OpenAI Realtime endpoint: bytes of client events a socket keeps while they wait for their answers; past it events are refused until the client reads' },
  ALLOWED_ORIGINS: {
    schema: originList,
    default: '',
    help: 'Web pages (origins, comma separated, or *) that may open WebSocket sessions besides the gateway\'s own; clients that send no Origin (SDKs, CLI, telephony) are always allowed',
  },
  METRICS_AUTH: { schema: z.enum(['none', 'gateway']), default: 'none', help: 'Who may read /metrics: none (anyone who reaches the HTTP port: fine for a cluster-internal port) or gateway (the credential AUTH_MODE asks of sessions)' },
  TELEPHONY_PUBLIC_URL: {
    schema: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]),
    default: '',
    help: 'Phone calls: the base URL carriers reach the HTTP port at, e.g. https://voice.example.com (signatures are checked against it and the TwiML webhook points streams at it); empty: taken from each request\'s Host header',
  },
  TWILIO_AUTH_TOKEN: { schema: z.string(), default: '', help: 'Phone calls: Twilio auth token; when set, the TwiML webhook and /v1/telephony/twilio check X-Twilio-Signature and a valid one admits the call (without one, a gateway key is needed)', secret: true },
  FONOSTER_SIGNING_SECRET: { schema: z.string(), default: '', help: 'Phone calls: the signing secret of a Fonoster stream; when set, /v1/telephony/twilio checks x-fonoster-signature and a valid one admits the call', secret: true },
  TELEPHONY_SIGNATURE_MAX_AGE_S: { schema: int(10, 3600), default: '300', help: 'Phone calls: a Fonoster signature older (or further in the future) than this (seconds) is refused' },
  TELEPHONY_GREETING: { schema: z.string().max(4000), default: '', help: 'Phone calls: words the agent says when a call connects (a stream parameter "greeting" replaces it); empty: none' },
  TELEPHONY_END_PHRASES: { schema: z.string().max(1000), default: '', help: 'Phone calls: comma-separated phrases; a reply that says one (whole words, any case) ends the call once it has been heard, e.g. goodbye (empty: none)' },
  TELEPHONY_END_CALL_TOOL: { schema: bool, default: 'true', help: 'Phone calls: offer the LLM the built-in end_call tool, with which the agent hangs up once the caller has heard its goodbye (never offered on gRPC, WebSocket or Realtime sessions)' },
  TELEPHONY_DTMF_MODE: { schema: z.enum(['each', 'until_hash']), default: 'each', help: 'Phone calls: each = every key press reaches the agent as "[pressed 5]"; until_hash = digits are collected until # and sent as "[entered 1234]"' },
  TELEPHONY_DTMF_MAX_DIGITS: { schema: int(1, 256), default: '32', help: 'Phone calls: digits collected at most before # (until_hash); more are sent as they are' },
  TELEPHONY_MAX_FRAME_MS: { schema: int(20, 10000), default: '1000', help: 'Phone calls: a media frame from the carrier holding more audio than this (ms) is refused' },
  TELEPHONY_PLAYOUT_LEAD_MS: { schema: int(20, 15000), default: '1000', help: 'Asterisk WebSocket: reply audio sent ahead of what the caller has heard (ms); FLUSH_MEDIA drops it on barge-in (Asterisk queues at most about 18 s)' },
  AUDIOSOCKET_PORT: { schema: unsetOr(int(0, 65535)), default: '', help: 'Asterisk AudioSocket TCP port (empty: off; 0: any free port). AudioSocket carries no credential: open it only to your PBX' },
  AUDIOSOCKET_HOST: { schema: z.string().min(1), default: '127.0.0.1', help: 'Address the AudioSocket port listens on (the PBX must reach it)' },
  MAX_TEXT_CHARS: { schema: int(1, 100000), default: '4000', help: 'Longest typed user message (chars)' },
  INBOUND_QUEUE_MAX_MESSAGES: { schema: int(8, 100000), default: '500', help: 'Client messages waiting to be processed before the session is closed' },
  INBOUND_QUEUE_MAX_BYTES: { schema: int(65536, 1073741824), default: '8388608', help: 'Bytes of client messages waiting to be processed before the session is closed (audio counts its bytes)' },
  OUTBOUND_QUEUE_MAX_BYTES: { schema: int(65536, 1073741824), default: '16777216', help: 'Bytes waiting for a slow client before it is disconnected' },

  // Resume (docs/architecture.md, "Resume"): a dropped client, a restarted pod or a rolling update continues the conversation.
  SESSION_STORE: { schema: z.enum(['memory', 'redis']), default: 'memory', help: 'Where session state is kept for resume: memory (this process only) or redis (REDIS_URL; every replica can resume every session)' },
  REDIS_URL: { schema: z.union([z.literal(''), z.url({ protocol: /^rediss?$/ })]), default: '', help: 'Redis for SESSION_STORE=redis: redis://host:6379/0, or rediss:// for TLS (a password may be in the URL or in REDIS_PASSWORD)', secret: true },
  REDIS_PASSWORD: { schema: z.string(), default: '', help: 'Redis password (AUTH), when not in REDIS_URL', secret: true },
  REDIS_CA_FILE: { schema: z.string(), default: '', help: 'PEM CA certificates that sign the Redis server certificate (rediss://; empty: the system roots)' },
  REDIS_KEY_PREFIX: { schema: z.string().max(100), default: 'voice-gateway:', help: 'Prefix of every Redis key the gateway writes' },
  SESSION_STORE_TIMEOUT_MS: { schema: int(10, 60000), default: '500', help: 'Longest wait (ms) for one session-store call; past it the session goes on without resume' },
  SESSION_STORE_HEARTBEAT_MS: { schema: int(500, 60000), default: '5000', help: 'How often (ms) the live sessions of this process are marked live in the store (a replica that dies stops marking them)' },
  RESUME_SECRET: {
    schema: z.string().refine((v) => v === '' || v.split(',').every((s) => s.trim().length >= 32), 'each comma-separated secret needs at least 32 characters'),
    default: '',
    help: 'Secrets that sign resume tokens, comma separated: the first signs, all verify (rotation). The same on every replica; empty: a random one per process (SESSION_STORE=memory only)',
    secret: true,
  },
  RESUME_WINDOW_MS: { schema: int(1000, 86400000), default: '60000', help: 'How long (ms) after a disconnect a session can be resumed with its token' },
  GRPC_HALF_CLOSE_GRACE_MS: {
    schema: int(0, 10000),
    default: '250',
    help: 'After a gRPC client ends its stream, how long (ms) the gateway waits for a cancel that follows it (a grpc cancel() sends both) before it ends the session for good; a cancelled call leaves its session resumable',
  },
} satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
export type Config = { [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']> };

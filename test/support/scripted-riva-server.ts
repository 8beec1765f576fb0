/**
 * A scripted NVIDIA Riva server for tests: grpc-js on loopback serving the gateway's own copy of
 * Riva's protos (nvidia.riva.asr, nvidia.riva.tts, grpc.health.v1), so the providers under test
 * put real Riva bytes on a real socket.
 *
 * ASR decides from the audio it receives (energy per 20 ms frame) and from the EndpointingConfig
 * it was sent, as Riva does from its acoustic model's blank frames: an utterance starts when the
 * share of voiced frames in the last `start_history` ms reaches `start_threshold`; interims
 * (stability 0.1) follow as speech goes on; when the last `stop_history_eou` ms are silent enough
 * an interim with stability 1.0 comes (the first pass), and at `stop_history` ms the final.
 * TTS answers SynthesizeOnline with raw s16le PCM (a tone) at the requested rate, in chunks.
 * On command it drops a stream, stalls, or answers UNAVAILABLE; it records what it received
 * (configs, metadata, audio, cancellations).
 */
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { bytesFromPcm16, pcm16FromBytes } from '../../src/audio/pcm.js';
import { Health, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus, type HealthCheckRequest, type HealthCheckResponse } from '../../src/gen/grpc/health/v1/health_pb.js';
import { AudioEncoding } from '../../src/gen/riva/proto/riva_audio_pb.js';
import * as asr from '../../src/gen/riva/proto/riva_asr_pb.js';
import * as tts from '../../src/gen/riva/proto/riva_tts_pb.js';
import { grpcServiceDefinition } from '../../src/lib/grpc-service.js';
import { tone } from './scripted-providers.js';
import { EndpointingRecognizer, type RivaWords } from './scripted-riva-recognizer.js';

export type { RivaWords } from './scripted-riva-recognizer.js';

export interface ScriptedRivaOptions {
  /** What each utterance says (default: "utterance of N ms", N its voiced length to 100 ms). */
  words?: RivaWords;
  /** Deployed ASR models (default: one streaming en-US model). */
  asrModels?: Array<{ name: string; language: string; type?: 'online' | 'offline' }>;
  /** Deployed TTS voices (default: English-US with Female-1 and Male-1). */
  voices?: Array<{ model: string; voiceName: string; languages: string; subvoices?: string }>;
  /** Wall time before each ASR result is sent (the model's compute). */
  asrResultDelayMs?: number;
  /** A stream that receives no audio this long is closed with OK, as Riva closes idle streams (0: never). */
  idleCloseMs?: number;
  /** Audio per character of text. */
  ttsMsPerChar?: number;
  ttsChunkMs?: number;
  ttsFirstChunkDelayMs?: number;
  ttsChunkDelayMs?: number;
  /** Longer texts are refused with INVALID_ARGUMENT, as Magpie refuses long requests. */
  ttsMaxChars?: number;
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; requireClientCert?: boolean };
}

export type AsrResultRecord = { kind: 'partial' | 'stable' | 'final'; text: string; audioMs: number };

export interface AsrCallRecord {
  metadata: Record<string, string>;
  /** The client's address:port: calls on one connection share it. */
  peer: string;
  config?: asr.StreamingRecognitionConfig;
  /** RequestId (field 100) of the config message. */
  requestId?: string;
  /** Bytes of each audio message, in order. */
  chunkBytes: number[];
  receivedMs: number;
  results: AsrResultRecord[];
  halfClosed: boolean;
  cancelled: boolean;
  /** How the server ended it, if it did. */
  ended?: 'ok' | 'dropped' | 'idle' | 'refused';
}

export interface TtsCallRecord {
  metadata: Record<string, string>;
  peer: string;
  requests: tts.SynthesizeSpeechRequest[];
  /** Requests received when the client half-closed (null: it did not). */
  halfClosedAfter: number | null;
  cancelled: boolean;
  audioBytes: number;
  finished: boolean;
}

export interface ScriptedRiva {
  /** host:port on loopback. */
  address: string;
  port: number;
  asrCalls: AsrCallRecord[];
  ttsCalls: TtsCallRecord[];
  unaryCalls: Array<{ method: string; metadata: Record<string, string> }>;
  /** The next `count` StreamingRecognize calls are refused with `code`. */
  refuseAsr(count: number, code?: grpc.status): void;
  /** The next ASR stream to have received `audioMs` of audio ends with UNAVAILABLE. */
  dropAsrAfter(audioMs: number): void;
  /** The next `calls` SynthesizeOnline calls take their request and never answer (until the client gives up). */
  stallTts(calls: number): void;
  /** Changes the pace and limits of what comes next. */
  configure(patch: Partial<Pick<ScriptedRivaOptions, 'asrResultDelayMs' | 'idleCloseMs' | 'ttsMsPerChar' | 'ttsChunkMs' | 'ttsFirstChunkDelayMs' | 'ttsChunkDelayMs' | 'ttsMaxChars'>>): void;
  refuseTts(count: number, code?: grpc.status): void;
  setHealth(status: 'SERVING' | 'NOT_SERVING'): void;
  setWords(words: RivaWords): void;
  close(): Promise<void>;
}

const DEFAULT_WORDS: RivaWords = ({ voicedMs }) => `utterance of ${Math.round(voicedMs / 100) * 100} ms`;

export async function startScriptedRiva(options: ScriptedRivaOptions = {}): Promise<ScriptedRiva> {
  const asrModels = options.asrModels ?? [{ name: 'parakeet-1.1b-en-US-asr-streaming', language: 'en-US' }];
  const voices = options.voices ?? [{ model: 'fastpitch-hifigan-en-US', voiceName: 'English-US', languages: 'en-US', subvoices: 'Female-1:0,Male-1:1' }];
  let words = options.words ?? DEFAULT_WORDS;
  const asrCalls: AsrCallRecord[] = [];
  const ttsCalls: TtsCallRecord[] = [];
  const unaryCalls: ScriptedRiva['unaryCalls'] = [];
  let asrRefusals: { count: number; code: grpc.status } = { count: 0, code: grpc.status.UNAVAILABLE };
  let ttsRefusals: { count: number; code: grpc.status } = { count: 0, code: grpc.status.UNAVAILABLE };
  let dropAfterMs: number | null = null;
  let ttsStalls = 0;
  let health: 'SERVING' | 'NOT_SERVING' = 'SERVING';
  const voiceNames = new Set(voices.flatMap((v) => (v.subvoices ? v.subvoices.split(',').map((s) => `${v.voiceName}.${s.split(':')[0]}`) : [v.voiceName])));

  const server = new grpc.Server();

  server.addService(grpcServiceDefinition(asr.RivaSpeechRecognition), {
    StreamingRecognize: (call: grpc.ServerDuplexStream<asr.StreamingRecognizeRequest, asr.StreamingRecognizeResponse>) => {
      const record: AsrCallRecord = { metadata: flatten(call.metadata), peer: call.getPeer(), chunkBytes: [], receivedMs: 0, results: [], halfClosed: false, cancelled: false };
      asrCalls.push(record);
      call.on('cancelled', () => (record.cancelled = true));
      call.on('error', () => undefined);
      if (asrRefusals.count > 0) {
        asrRefusals.count--;
        record.ended = 'refused';
        return fail(call, asrRefusals.code, 'scripted Riva refuses this stream');
      }
      let recognizer: EndpointingRecognizer | null = null;
      let done = false;
      // Results go out in order, each after the model's compute time.
      let sending = Promise.resolve();
      const sendResult = (result: AsrResultRecord & { stability: number }) => {
        record.results.push({ kind: result.kind, text: result.text, audioMs: result.audioMs });
        sending = sending.then(async () => {
          if (options.asrResultDelayMs) await sleep(options.asrResultDelayMs);
          if (done || call.cancelled) return;
          call.write(
            create(asr.StreamingRecognizeResponseSchema, {
              results: [
                {
                  alternatives: [{ transcript: result.text, confidence: result.kind === 'final' ? 0.9 : 0 }],
                  isFinal: result.kind === 'final',
                  stability: result.stability,
                  audioProcessed: result.audioMs / 1000,
                },
              ],
            }),
          );
        });
      };
      let idleTimer: NodeJS.Timeout | undefined;
      const resetIdle = () => {
        clearTimeout(idleTimer);
        if (options.idleCloseMs) {
          idleTimer = setTimeout(() => {
            record.ended = 'idle';
            void finish();
          }, options.idleCloseMs);
        }
      };
      const finish = async () => {
        clearTimeout(idleTimer);
        for (const result of recognizer?.flush() ?? []) sendResult(result);
        await sending;
        if (done || call.cancelled) return;
        done = true;
        record.ended ??= 'ok';
        call.end();
      };
      call.on('data', (request: asr.StreamingRecognizeRequest) => {
        if (done) return;
        const message = request.streamingRequest;
        if (!recognizer) {
          if (message.case !== 'streamingConfig') return refuse('the first message must carry streaming_config');
          record.config = message.value;
          record.requestId = request.id?.value;
          const problem = configProblem(message.value, asrModels);
          if (problem) return refuse(problem);
          recognizer = new EndpointingRecognizer(message.value, words);
          resetIdle();
          return;
        }
        if (message.case !== 'audioContent') return refuse('only the first message may carry streaming_config');
        record.chunkBytes.push(message.value.length);
        const pcm = pcm16FromBytes(message.value);
        record.receivedMs += (pcm.length * 1000) / recognizer.sampleRateHz;
        if (dropAfterMs !== null && record.receivedMs >= dropAfterMs) {
          dropAfterMs = null;
          done = true;
          record.ended = 'dropped';
          clearTimeout(idleTimer);
          return fail(call, grpc.status.UNAVAILABLE, 'Connection reset (scripted drop)');
        }
        for (const result of recognizer.feed(pcm)) sendResult(result);
        resetIdle();
      });
      call.on('end', () => {
        record.halfClosed = true;
        void finish();
      });
      function refuse(details: string) {
        done = true;
        clearTimeout(idleTimer);
        fail(call, grpc.status.INVALID_ARGUMENT, details);
      }
    },
    GetRivaSpeechRecognitionConfig: (call: grpc.ServerUnaryCall<asr.RivaSpeechRecognitionConfigRequest, asr.RivaSpeechRecognitionConfigResponse>, callback: grpc.sendUnaryData<asr.RivaSpeechRecognitionConfigResponse>) => {
      unaryCalls.push({ method: 'GetRivaSpeechRecognitionConfig', metadata: flatten(call.metadata) });
      callback(
        null,
        create(asr.RivaSpeechRecognitionConfigResponseSchema, {
          modelConfig: asrModels.map((m) => ({ modelName: m.name, parameters: { type: m.type ?? 'online', language_code: m.language } })),
        }),
      );
    },
    Recognize: (_call: unknown, callback: grpc.sendUnaryData<asr.RecognizeResponse>) =>
      callback({ code: grpc.status.UNIMPLEMENTED, details: 'scripted Riva serves streaming recognition only' }),
  });

  server.addService(grpcServiceDefinition(tts.RivaSpeechSynthesis), {
    SynthesizeOnline: (call: grpc.ServerDuplexStream<tts.SynthesizeSpeechRequest, tts.SynthesizeSpeechResponse>) => {
      const record: TtsCallRecord = { metadata: flatten(call.metadata), peer: call.getPeer(), requests: [], halfClosedAfter: null, cancelled: false, audioBytes: 0, finished: false };
      ttsCalls.push(record);
      call.on('error', () => undefined);
      if (ttsRefusals.count > 0) {
        ttsRefusals.count--;
        return fail(call, ttsRefusals.code, 'scripted Riva refuses this synthesis');
      }
      const waiting: tts.SynthesizeSpeechRequest[] = [];
      let wake: () => void = () => undefined;
      call.on('data', (request: tts.SynthesizeSpeechRequest) => {
        record.requests.push(request);
        waiting.push(request);
        wake();
      });
      call.on('end', () => {
        record.halfClosedAfter = record.requests.length;
        wake();
      });
      call.on('cancelled', () => {
        record.cancelled = true;
        wake();
      });
      void (async () => {
        for (;;) {
          if (record.cancelled) return;
          const request = waiting.shift();
          if (!request) {
            if (record.halfClosedAfter !== null) {
              record.finished = true;
              return call.end();
            }
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          const problem = synthesisProblem(request, voiceNames, options.ttsMaxChars ?? 2000);
          if (problem) return fail(call, grpc.status.INVALID_ARGUMENT, problem);
          if (ttsStalls > 0) {
            ttsStalls--;
            return; // the client's deadline or cancellation ends it
          }
          await synthesize(call, record, request);
        }
      })();
    },
    GetRivaSynthesisConfig: (call: grpc.ServerUnaryCall<tts.RivaSynthesisConfigRequest, tts.RivaSynthesisConfigResponse>, callback: grpc.sendUnaryData<tts.RivaSynthesisConfigResponse>) => {
      unaryCalls.push({ method: 'GetRivaSynthesisConfig', metadata: flatten(call.metadata) });
      callback(
        null,
        create(tts.RivaSynthesisConfigResponseSchema, {
          modelConfig: voices.map((v) => ({ modelName: v.model, parameters: { voice_name: v.voiceName, language_code: v.languages, ...(v.subvoices ? { subvoices: v.subvoices } : {}) } })),
        }),
      );
    },
    Synthesize: (_call: unknown, callback: grpc.sendUnaryData<tts.SynthesizeSpeechResponse>) =>
      callback({ code: grpc.status.UNIMPLEMENTED, details: 'scripted Riva serves streaming synthesis only' }),
  });

  server.addService(grpcServiceDefinition(Health), {
    Check: (call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: grpc.sendUnaryData<HealthCheckResponse>) => {
      unaryCalls.push({ method: 'Health/Check', metadata: flatten(call.metadata) });
      callback(null, create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus[health] }));
    },
    Watch: (call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
      call.write(create(HealthCheckResponseSchema, { status: HealthCheckResponse_ServingStatus[health] }));
    },
  });

  async function synthesize(call: grpc.ServerDuplexStream<tts.SynthesizeSpeechRequest, tts.SynthesizeSpeechResponse>, record: TtsCallRecord, request: tts.SynthesizeSpeechRequest) {
    const rateHz = request.sampleRateHz;
    const totalMs = request.text.length * (options.ttsMsPerChar ?? 60);
    const chunkMs = options.ttsChunkMs ?? 100;
    await sleep(options.ttsFirstChunkDelayMs ?? 0);
    for (let at = 0; at < totalMs; at += chunkMs) {
      if (record.cancelled) return;
      if (at > 0 && options.ttsChunkDelayMs) await sleep(options.ttsChunkDelayMs);
      if (record.cancelled) return;
      const audio = bytesFromPcm16(tone(Math.min(chunkMs, totalMs - at), rateHz, 4000));
      record.audioBytes += audio.length;
      call.write(create(tts.SynthesizeSpeechResponseSchema, { audio, id: request.id }));
    }
  }

  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(options.tls.ca ?? null, [{ private_key: options.tls.key, cert_chain: options.tls.cert }], options.tls.requireClientCert ?? false)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))));

  return {
    address: `127.0.0.1:${port}`,
    port,
    asrCalls,
    ttsCalls,
    unaryCalls,
    refuseAsr: (count, code = grpc.status.UNAVAILABLE) => (asrRefusals = { count, code }),
    dropAsrAfter: (audioMs) => (dropAfterMs = audioMs),
    stallTts: (calls) => (ttsStalls = calls),
    configure: (patch) => Object.assign(options, patch),
    refuseTts: (count, code = grpc.status.UNAVAILABLE) => (ttsRefusals = { count, code }),
    setHealth: (status) => (health = status),
    setWords: (next) => (words = next),
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000).unref();
      }),
  };
}

/** Riva's own refusals of a bad recognition config. */
function configProblem(config: asr.StreamingRecognitionConfig, models: Array<{ name: string; language: string; type?: string }>): string | null {
  const c = config.config;
  if (!c) return 'streaming_config.config is missing';
  if (c.encoding !== AudioEncoding.LINEAR_PCM) return `encoding ${AudioEncoding[c.encoding]} is not served here: send LINEAR_PCM`;
  if (c.sampleRateHertz <= 0) return 'sample_rate_hertz must be set';
  const streaming = models.filter((m) => (m.type ?? 'online') === 'online' && m.language === c.languageCode && (!c.model || m.name === c.model));
  if (streaming.length === 0) return `Unavailable model requested given these parameters: language_code=${c.languageCode}; type=online${c.model ? `; name=${c.model}` : ''}`;
  return null;
}

function synthesisProblem(request: tts.SynthesizeSpeechRequest, voices: Set<string>, maxChars: number): string | null {
  if (!request.text.trim()) return 'text is empty';
  if (request.text.length > maxChars) return `text is ${request.text.length} characters: at most ${maxChars}`;
  if (request.encoding !== AudioEncoding.LINEAR_PCM) return 'only LINEAR_PCM is served here';
  if (request.sampleRateHz <= 0) return 'sample_rate_hz must be set';
  if (request.voiceName && !voices.has(request.voiceName)) return `Model not available for voice ${request.voiceName}`;
  return null;
}

function fail(call: { emit(event: 'error', status: Partial<grpc.StatusObject>): boolean }, code: grpc.status, details: string): void {
  call.emit('error', { code, details });
}

function flatten(metadata: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) out[key] = String(value);
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

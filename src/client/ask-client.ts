/**
 * A gRPC client that behaves like a listener: it streams speech at real-time pace (or as fast as
 * possible), keeps its microphone open with silence afterwards, plays each reply at real-time pace,
 * reports how far it has played, and drops queued audio when told a reply was interrupted.
 */
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import * as pb from '../gen/voice/v1/voice_pb.js';

/** A client event as the generated code accepts it for `create`. */
type RequestEvent = MessageInitShape<typeof pb.ConverseRequestSchema>['event'];
import { bytesFromPcm16, pcm16FromBytes } from '../audio/pcm.js';
import { ReplyPlayer } from './reply-player.js';

export interface AskTurn {
  turn_id: string;
  transcript: string;
  response_text: string;
  response_status: 'completed' | 'interrupted' | 'failed' | 'none';
  reply_audio_ms: number;
  metrics: Record<string, number | string>;
}

export interface AskOptions {
  /** host:port of the gateway. */
  server: string;
  /** Mono PCM16 to send, at `sampleRateHz`. */
  pcm: Int16Array;
  sampleRateHz: number;
  /** Reply audio rate asked for. */
  outputSampleRateHz?: number;
  /** Send audio as fast as possible instead of at real-time pace. */
  fast?: boolean;
  /** Typed messages to send after the audio (each waits for the previous reply). */
  texts?: string[];
  settings?: { language?: string; voice?: string; instructions?: string };
  /** Quiet time after the last reply (no speech, no reply) that ends the conversation. */
  settleMs?: number;
  /** Hard limit on the whole conversation. */
  timeoutMs?: number;
  chunkMs?: number;
  /** Every server event as it arrives (for live printing). */
  onEvent?: (response: pb.ConverseResponse) => void;
}

export interface AskResult {
  sessionId: string;
  turns: AskTurn[];
  /** What the listener heard, back to back, at the output rate. */
  heardPcm: Int16Array;
  outputSampleRateHz: number;
  errors: Array<{ code: string; message: string }>;
}

const PLAYBACK_REPORT_MS = 200;

export async function ask(options: AskOptions): Promise<AskResult> {
  const chunkMs = options.chunkMs ?? 100;
  const settleMs = options.settleMs ?? 2500;
  const outputRateHz = options.outputSampleRateHz ?? 16000;
  const client = new grpc.Client(options.server, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(
    '/voice.v1.VoiceGateway/Converse',
    (request: pb.ConverseRequest) => Buffer.from(toBinary(pb.ConverseRequestSchema, request)),
    (bytes: Buffer) => fromBinary(pb.ConverseResponseSchema, bytes),
  );
  const send = (event: RequestEvent) => call.write(create(pb.ConverseRequestSchema, { event }));

  const turns = new Map<string, AskTurn>();
  const turnOfResponse = new Map<string, AskTurn>();
  const errors: AskResult['errors'] = [];
  let sessionId = '';
  let activeResponse: string | null = null;
  let lastActivityAt: number; // set when the audio has been sent, then by each server event
  const player = new ReplyPlayer(outputRateHz);
  const turnFor = (id: string) => {
    let turn = turns.get(id);
    if (!turn) turns.set(id, (turn = { turn_id: id, transcript: '', response_text: '', response_status: 'none', reply_audio_ms: 0, metrics: {} }));
    return turn;
  };

  const ended = new Promise<void>((resolve, reject) => {
    call.on('data', (response: pb.ConverseResponse) => {
      options.onEvent?.(response);
      const event = response.event;
      if (event.case !== 'responseAudio') lastActivityAt = Date.now();
      switch (event.case) {
        case 'ready':
          sessionId = event.value.sessionId;
          break;
        case 'speechStarted':
          break;
        case 'transcript':
          turnFor(event.value.turnId).transcript = event.value.text;
          break;
        case 'responseStarted':
          activeResponse = event.value.responseId;
          turnOfResponse.set(event.value.responseId, turnFor(event.value.turnId));
          player.begin(event.value.responseId);
          break;
        case 'responseText': {
          const turn = turnOfResponse.get(event.value.responseId);
          if (turn) turn.response_text += event.value.delta;
          break;
        }
        case 'responseAudio':
          player.enqueue(event.value.responseId, pcm16FromBytes(event.value.data));
          break;
        case 'responseDone': {
          const { responseId, status } = event.value;
          const turn = turnOfResponse.get(responseId);
          if (turn) turn.reply_audio_ms = event.value.audioSentMs;
          if (status === pb.ResponseStatus.INTERRUPTED) {
            const playedMs = player.stop(responseId);
            if (turn) turn.reply_audio_ms = Math.round(playedMs);
            send({ case: 'playback', value: { responseId, playedMs: Math.round(playedMs) } });
          }
          if (turn) turn.response_status = statusName(status);
          if (activeResponse === responseId) activeResponse = null;
          break;
        }
        case 'turnMetrics': {
          const turn = turnOfResponse.get(event.value.responseId) ?? turnFor(event.value.turnId);
          turn.metrics = metricsObject(event.value);
          break;
        }
        case 'error':
          errors.push({ code: pb.ErrorCode[event.value.code] ?? String(event.value.code), message: event.value.message });
          break;
        default:
          break;
      }
    });
    call.on('end', () => resolve());
    call.on('error', (error: grpc.ServiceError) => (error.code === grpc.status.CANCELLED ? resolve() : reject(error)));
  });

  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const reporter = setInterval(() => {
    const position = player.tick();
    if (position) send({ case: 'playback', value: { responseId: position.responseId, playedMs: Math.round(position.playedMs) } });
  }, PLAYBACK_REPORT_MS);
  try {
    send({
      case: 'start',
      value: {
        settings: {
          ...options.settings,
          inputFormat: { encoding: pb.AudioEncoding.PCM16, sampleRateHz: options.sampleRateHz },
          outputFormat: { encoding: pb.AudioEncoding.PCM16, sampleRateHz: outputRateHz },
        },
      },
    });
    const samplesPerChunk = Math.round((options.sampleRateHz * chunkMs) / 1000);
    const silence = new Int16Array(samplesPerChunk);
    const startedAt = Date.now();
    let sentMs = 0;
    const pace = async () => {
      sentMs += chunkMs;
      const aheadMs = startedAt + sentMs - Date.now();
      if (aheadMs > 0) await new Promise((r) => setTimeout(r, aheadMs));
    };
    for (let at = 0; at < options.pcm.length; at += samplesPerChunk) {
      send({ case: 'audio', value: { data: bytesFromPcm16(options.pcm.subarray(at, at + samplesPerChunk)) } });
      if (!options.fast) await pace();
      else await new Promise((r) => setImmediate(r));
    }
    lastActivityAt = Date.now();
    const texts = [...(options.texts ?? [])];
    // The microphone stays open (silence) until the conversation has settled.
    while (Date.now() < deadline) {
      const quiet = activeResponse === null && !player.playing && Date.now() - lastActivityAt >= settleMs;
      if (quiet && texts.length === 0) break;
      if (quiet) {
        send({ case: 'text', value: { text: texts.shift()! } });
        lastActivityAt = Date.now();
      }
      send({ case: 'audio', value: { data: bytesFromPcm16(silence) } });
      await pace();
    }
  } finally {
    clearInterval(reporter);
    call.end();
  }
  await ended;
  client.close();
  return { sessionId, turns: [...turns.values()].filter((t) => t.transcript || t.response_text), heardPcm: player.heard(), outputSampleRateHz: outputRateHz, errors };
}

function statusName(status: pb.ResponseStatus): AskTurn['response_status'] {
  if (status === pb.ResponseStatus.COMPLETED) return 'completed';
  if (status === pb.ResponseStatus.INTERRUPTED) return 'interrupted';
  return 'failed';
}

function metricsObject(m: pb.TurnMetrics): AskTurn['metrics'] {
  const out: AskTurn['metrics'] = {};
  const fields = ['eouDelayMs', 'asrFinalMs', 'llmTtftMs', 'llmFirstPieceMs', 'ttsTtfbMs', 'voiceToVoiceMs'] as const;
  for (const field of fields) if (m[field]) out[field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = m[field];
  if (m.speculative !== pb.SpeculativeOutcome.UNSPECIFIED) out.speculative = m.speculative === pb.SpeculativeOutcome.HIT ? 'hit' : 'miss';
  return out;
}


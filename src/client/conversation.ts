/**
 * One conversation with the gateway over gRPC, taken part in as a listener does: it opens the
 * Converse call and sends `start`, keeps a record of each turn (transcript, reply text, status,
 * metrics), plays reply audio through a ReplyPlayer, reports how far it has played, and drops
 * queued audio when a reply is interrupted, so the gateway cuts its history to what was heard.
 * `ask` (a WAV file) and `talk` (a microphone) drive it; neither touches gRPC itself.
 */
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { bytesFromPcm16, pcm16FromBytes } from '../audio/pcm.js';
import * as pb from '../gen/voice/v1/voice_pb.js';
import type { ReplyPlayer } from './reply-player.js';
import type { ClientTools } from './tool-command.js';

/** A client event as the generated code accepts it for `create`. */
export type RequestEvent = MessageInitShape<typeof pb.ConverseRequestSchema>['event'];

/** One user turn and the reply to it, in the shape `ask --json` prints (snake_case, ms). */
export interface ConversationTurn {
  turn_id: string;
  transcript: string;
  response_text: string;
  response_status: 'completed' | 'interrupted' | 'failed' | 'none';
  reply_audio_ms: number;
  metrics: Record<string, number | string>;
  /** The client's tools the reply called, in order (only when it called any). */
  tool_calls?: Array<{ name: string; arguments: string; output?: string; is_error?: boolean; cancelled?: string }>;
}

export interface ConversationOptions {
  /** host:port of the gateway. */
  server: string;
  /** Rate of the PCM16 the client will send. */
  inputSampleRateHz: number;
  /** Reply audio rate asked for; the player plays at this rate. */
  outputSampleRateHz: number;
  settings?: { language?: string; voice?: string; instructions?: string };
  player: ReplyPlayer;
  /** How often the playhead advances (ms); a real speaker wants small steps. Default 100. */
  playerTickMs?: number;
  /** How often the position played is reported to the gateway (ms). Default 200. */
  playbackReportMs?: number;
  /** Every server event as it arrives (for live printing). */
  onEvent?: (response: pb.ConverseResponse) => void;
  /** Tools this client declares and runs when the gateway calls them. */
  tools?: ClientTools;
  /**
   * A connection of its own, as a separate client would have. By default grpc-js shares one
   * connection among every conversation of the process to the same server; the bench's hundreds of
   * callers must not queue behind each other in it.
   */
  ownConnection?: boolean;
}

export class Conversation {
  sessionId = '';
  readonly errors: Array<{ code: string; message: string }> = [];
  /** Wall time (Date.now()) of the last server event other than reply audio. */
  lastActivityAt = Date.now();
  /** The reply the gateway is generating or playing, if any. */
  activeResponseId: string | null = null;
  /** Settles when the call is over; rejects with the call's error (never left unhandled). */
  readonly ended: Promise<void>;

  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<pb.ConverseRequest, pb.ConverseResponse>;
  private readonly player: ReplyPlayer;
  private readonly turns = new Map<string, ConversationTurn>();
  private readonly turnOfResponse = new Map<string, ConversationTurn>();
  /** Tool calls running, by call id. */
  private readonly toolRuns = new Map<string, AbortController>();
  private readonly toolRecords = new Map<string, NonNullable<ConversationTurn['tool_calls']>[number]>();
  private readonly ticker: NodeJS.Timeout;
  private over = false;
  private sendingEnded = false;
  private lastReportAt = 0;

  constructor(private readonly options: ConversationOptions) {
    this.player = options.player;
    this.client = new grpc.Client(options.server, grpc.credentials.createInsecure(), options.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {});
    this.call = this.client.makeBidiStreamRequest(
      '/voice.v1.VoiceGateway/Converse',
      (request: pb.ConverseRequest) => Buffer.from(toBinary(pb.ConverseRequestSchema, request)),
      (bytes: Buffer) => fromBinary(pb.ConverseResponseSchema, bytes),
    );
    this.ended = new Promise<void>((resolve, reject) => {
      this.call.on('data', (response: pb.ConverseResponse) => this.onResponse(response));
      this.call.on('end', () => resolve());
      this.call.on('error', (error: grpc.ServiceError) => (error.code === grpc.status.CANCELLED ? resolve() : reject(error)));
    }).finally(() => {
      this.over = true;
    });
    this.ended.catch(() => undefined); // awaited by close(); a failure must not crash the process before that
    const playbackReportMs = options.playbackReportMs ?? 200;
    this.ticker = setInterval(() => this.tick(playbackReportMs), options.playerTickMs ?? 100);
    this.send({
      case: 'start',
      value: {
        settings: {
          ...options.settings,
          inputFormat: { encoding: pb.AudioEncoding.PCM16, sampleRateHz: options.inputSampleRateHz },
          outputFormat: { encoding: pb.AudioEncoding.PCM16, sampleRateHz: options.outputSampleRateHz },
          ...(options.tools ? { tools: { tools: options.tools.declarations } } : {}),
        },
      },
    });
  }

  /** True once the call has ended (the gateway closed it, or it failed). */
  get finished(): boolean {
    return this.over;
  }

  /** True while a reply is being generated or its audio is still playing. */
  get replying(): boolean {
    return this.activeResponseId !== null || this.player.playing;
  }

  /** No reply going on, nothing playing and no server event for `quietMs`. */
  quietFor(quietMs: number): boolean {
    return !this.replying && Date.now() - this.lastActivityAt >= quietMs;
  }

  sendAudio(pcm: Int16Array): void {
    this.send({ case: 'audio', value: { data: bytesFromPcm16(pcm) } });
  }

  sendText(text: string): void {
    this.send({ case: 'text', value: { text } });
    this.lastActivityAt = Date.now();
  }

  /** Asks the gateway to stop the current reply now. */
  interrupt(): void {
    this.send({ case: 'interrupt', value: {} });
  }

  /** The turns so far that have a transcript or a reply, in order. */
  turnsSoFar(): ConversationTurn[] {
    return [...this.turns.values()].filter((t) => t.transcript || t.response_text);
  }

  /** Ends the client's side, waits for the gateway to end the call, and closes the connection. */
  async close(): Promise<void> {
    clearInterval(this.ticker);
    for (const run of this.toolRuns.values()) run.abort();
    if (!this.sendingEnded) {
      this.sendingEnded = true;
      this.call.end();
    }
    try {
      await this.ended;
    } finally {
      this.client.close();
    }
  }

  private send(event: RequestEvent): void {
    if (this.over || this.sendingEnded) return;
    this.call.write(create(pb.ConverseRequestSchema, { event }));
  }

  /** Runs a tool the gateway called and answers with its result (unless the call was cancelled). */
  private runTool(call: pb.ToolCall): void {
    const tools = this.options.tools;
    const record = { name: call.name, arguments: call.argumentsJson };
    this.toolRecords.set(call.callId, record);
    const turn = this.turnOfResponse.get(call.responseId);
    if (turn) (turn.tool_calls ??= []).push(record);
    if (!tools) {
      this.send({ case: 'toolResult', value: { callId: call.callId, output: `this client has no tool named ${call.name}`, isError: true } });
      return;
    }
    const controller = new AbortController();
    this.toolRuns.set(call.callId, controller);
    const failed = (error: unknown): { output: string; isError: boolean } => ({ output: `the tool failed: ${error instanceof Error ? error.message : String(error)}`, isError: true });
    tools
      .run({ callId: call.callId, name: call.name, argumentsJson: call.argumentsJson }, controller.signal)
      .then((result) => result, failed)
      .then(({ output, isError }) => {
        this.toolRuns.delete(call.callId);
        if (controller.signal.aborted) return;
        Object.assign(record, { output, ...(isError ? { is_error: true } : {}) });
        this.send({ case: 'toolResult', value: { callId: call.callId, output, isError } });
      })
      .catch((error: unknown) => this.errors.push({ code: 'CLIENT_TOOL', message: `the result of ${call.name} could not be sent: ${error instanceof Error ? error.message : String(error)}` }));
  }

  private tick(playbackReportMs: number): void {
    const position = this.player.tick();
    const now = Date.now();
    if (!position || now - this.lastReportAt < playbackReportMs) return;
    this.lastReportAt = now;
    this.send({ case: 'playback', value: { responseId: position.responseId, playedMs: Math.round(position.playedMs) } });
  }

  private turnFor(id: string): ConversationTurn {
    let turn = this.turns.get(id);
    if (!turn) this.turns.set(id, (turn = { turn_id: id, transcript: '', response_text: '', response_status: 'none', reply_audio_ms: 0, metrics: {} }));
    return turn;
  }

  private onResponse(response: pb.ConverseResponse): void {
    const event = response.event;
    if (event.case !== 'responseAudio') this.lastActivityAt = Date.now();
    switch (event.case) {
      case 'ready':
        this.sessionId = event.value.sessionId;
        break;
      case 'transcript':
        this.turnFor(event.value.turnId).transcript = event.value.text;
        break;
      case 'responseStarted':
        this.activeResponseId = event.value.responseId;
        this.turnOfResponse.set(event.value.responseId, this.turnFor(event.value.turnId));
        this.player.begin(event.value.responseId);
        break;
      case 'responseText': {
        const turn = this.turnOfResponse.get(event.value.responseId);
        if (turn) turn.response_text += event.value.delta;
        break;
      }
      case 'responseAudio':
        this.player.enqueue(event.value.responseId, pcm16FromBytes(event.value.data));
        break;
      case 'responseDone': {
        const { responseId, status } = event.value;
        const turn = this.turnOfResponse.get(responseId);
        if (turn) turn.reply_audio_ms = event.value.audioSentMs;
        if (status === pb.ResponseStatus.INTERRUPTED) {
          // Drop what was not played yet, and tell the gateway exactly how much was.
          const playedMs = Math.round(this.player.stop(responseId));
          if (turn) turn.reply_audio_ms = playedMs;
          this.send({ case: 'playback', value: { responseId, playedMs } });
        }
        if (turn) turn.response_status = statusName(status);
        if (this.activeResponseId === responseId) this.activeResponseId = null;
        break;
      }
      case 'turnMetrics': {
        const turn = this.turnOfResponse.get(event.value.responseId) ?? this.turnFor(event.value.turnId);
        turn.metrics = metricsObject(event.value);
        break;
      }
      case 'error':
        this.errors.push({ code: pb.ErrorCode[event.value.code] ?? String(event.value.code), message: event.value.message });
        break;
      case 'toolCall':
        this.runTool(event.value);
        break;
      case 'toolCallCancelled': {
        const { callId, reason } = event.value;
        this.toolRuns.get(callId)?.abort();
        const record = this.toolRecords.get(callId);
        if (record && !event.value.resultIgnored) record.cancelled = pb.ToolCancelReason[reason]?.toLowerCase() ?? String(reason);
        break;
      }
      default:
        break;
    }
    // After the record is updated, so that a listener sees the conversation as of this event.
    this.options.onEvent?.(response);
  }
}

function statusName(status: pb.ResponseStatus): ConversationTurn['response_status'] {
  if (status === pb.ResponseStatus.COMPLETED) return 'completed';
  if (status === pb.ResponseStatus.INTERRUPTED) return 'interrupted';
  return 'failed';
}

function metricsObject(m: pb.TurnMetrics): ConversationTurn['metrics'] {
  const out: ConversationTurn['metrics'] = {};
  const fields = ['eouDelayMs', 'asrFinalMs', 'llmTtftMs', 'llmFirstPieceMs', 'ttsTtfbMs', 'voiceToVoiceMs'] as const;
  for (const field of fields) if (m[field]) out[field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = m[field];
  if (m.speculative !== pb.SpeculativeOutcome.UNSPECIFIED) out.speculative = m.speculative === pb.SpeculativeOutcome.HIT ? 'hit' : 'miss';
  return out;
}

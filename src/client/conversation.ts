/**
 * One conversation with the gateway over gRPC, taken part in as a listener does: it opens the
 * Converse call and sends `start`, keeps a record of each turn (transcript, reply text, status,
 * metrics), plays reply audio through a ReplyPlayer, reports how far it has played, and drops
 * queued audio when a reply is interrupted, so the gateway cuts its history to what was heard.
 * `ask` (a WAV file) and `talk` (a microphone) drive it; neither touches gRPC itself.
 *
 * A dropped connection, a gateway that restarts or one that drains does not end the conversation:
 * it reconnects (to the next address of `server` when several are given) and resumes the session
 * with the token of its latest `ready`, telling the gateway how much of the reply it had played.
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
  /** host:port of the gateway; several, comma separated, are tried in turn when reconnecting. */
  server: string;
  /** Reconnect and resume after a drop (default true). */
  resume?: boolean;
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
  /** Settles when the conversation is over; rejects with the last call's error (never left unhandled). */
  readonly ended: Promise<void>;
  /** The latest `ready.resume_token` (empty: the gateway does not offer resume). */
  resumeToken = '';
  /** Resumes so far, each with the time from the drop to the resumed session's first event (ms). */
  readonly resumes: Array<{ server: string; resumeMs: number }> = [];

  private client!: grpc.Client;
  private call!: grpc.ClientDuplexStream<pb.ConverseRequest, pb.ConverseResponse>;
  private readonly servers: string[];
  private serverIndex = 0;
  private resumeWindowMs = 0;
  /** The session ended with an error that a reconnect would not mend. */
  private finalError: pb.ErrorCode | undefined;
  /** performance.now() of the drop being mended, until the resumed session's first event. */
  private droppedAt: number | undefined;
  private settle!: { resolve: () => void; reject: (error: unknown) => void };
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
    this.servers = options.server.split(',').map((s) => s.trim()).filter(Boolean);
    this.ended = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject })).finally(() => {
      this.over = true;
      clearInterval(this.ticker);
      this.client.close();
    });
    this.ended.catch(() => undefined); // awaited by close(); a failure must not crash the process before that
    const playbackReportMs = options.playbackReportMs ?? 200;
    this.ticker = setInterval(() => this.tick(playbackReportMs), options.playerTickMs ?? 100);
    this.openCall({
      settings: {
        ...options.settings,
        inputFormat: { encoding: pb.AudioEncoding.PCM16, sampleRateHz: options.inputSampleRateHz },
        outputFormat: { encoding: pb.AudioEncoding.PCM16, sampleRateHz: options.outputSampleRateHz },
        ...(options.tools ? { tools: { tools: options.tools.declarations } } : {}),
      },
    });
  }

  /** Where the reply then playing had been played to when the connection last dropped. */
  get playedAtLastDrop(): { responseId: string; playedMs: number } | undefined {
    return this.playedAtDrop;
  }

  /** The address the conversation talks to now. */
  get server(): string {
    return this.servers[this.serverIndex]!;
  }

  private openCall(start: MessageInitShape<typeof pb.StartSessionSchema>): void {
    this.client = new grpc.Client(this.server, grpc.credentials.createInsecure(), this.options.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {});
    const call = this.client.makeBidiStreamRequest(
      '/voice.v1.VoiceGateway/Converse',
      (request: pb.ConverseRequest) => Buffer.from(toBinary(pb.ConverseRequestSchema, request)),
      (bytes: Buffer) => fromBinary(pb.ConverseResponseSchema, bytes),
    );
    this.call = call;
    call.on('data', (response: pb.ConverseResponse) => {
      if (this.call === call) this.onResponse(response);
    });
    call.on('end', () => this.callEnded(call, null));
    call.on('error', (error: grpc.ServiceError) => this.callEnded(call, error));
    call.write(create(pb.ConverseRequestSchema, { event: { case: 'start', value: start } }));
  }

  /** The call is over: the conversation ends, or it resumes on a new call. */
  private callEnded(call: grpc.ClientDuplexStream<pb.ConverseRequest, pb.ConverseResponse>, error: grpc.ServiceError | null): void {
    if (call !== this.call || this.over) return;
    if (this.sendingEnded || !this.mayResume(error)) {
      if (error && error.code !== grpc.status.CANCELLED) this.settle.reject(error);
      else this.settle.resolve();
      return;
    }
    this.resume(error).catch((failure: unknown) => this.settle.reject(failure));
  }

  /** A drop, a restart or a drain is resumed; a refusal (a bad key, a limit, a bad token) is not. */
  private mayResume(error: grpc.ServiceError | null): boolean {
    if (this.options.resume === false || !this.resumeToken) return false;
    if (this.finalError !== undefined) return this.finalError === pb.ErrorCode.RECONNECT_TO_RESUME || this.finalError === pb.ErrorCode.UNAVAILABLE;
    return error === null || !NOT_RESUMED_STATUS.has(error.code);
  }

  /** Reconnects until a session resumes or the window is over, trying each address in turn. */
  private async resume(error: grpc.ServiceError | null): Promise<void> {
    if (this.droppedAt === undefined) {
      this.droppedAt = performance.now();
      // What was queued and not played is lost with the connection; the gateway goes on from here.
      const active = this.activeResponseId;
      this.playedAtDrop = active ? { responseId: active, playedMs: Math.round(this.player.stop(active)) } : undefined;
    }
    this.client.close();
    const played = this.playedAtDrop;
    this.finalError = undefined;
    const deadline = this.droppedAt + this.resumeWindowMs;
    const attempt = this.resumeAttempts++;
    if (performance.now() > deadline) {
      this.settle.reject(error ?? new Error('the session could not be resumed within its resume window'));
      return;
    }
    if (attempt > 0) await new Promise((r) => setTimeout(r, RESUME_BACKOFF_MS[Math.min(attempt - 1, RESUME_BACKOFF_MS.length - 1)]));
    if (this.over || this.sendingEnded) return this.settle.resolve();
    if (attempt > 0 || this.servers.length > 1) this.serverIndex = (this.serverIndex + 1) % this.servers.length;
    this.openCall({ resumeToken: this.resumeToken, ...(played ? { played } : {}) });
  }

  private resumeAttempts = 0;
  private playedAtDrop: { responseId: string; playedMs: number } | undefined;

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
      if (this.droppedAt !== undefined) this.settle.resolve(); // no call is up: nothing to wait for
    }
    await this.ended;
  }

  private send(event: RequestEvent): void {
    if (this.over || this.sendingEnded || this.droppedAt !== undefined) return; // while reconnecting, input is dropped like on a dead line
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
    if (this.droppedAt !== undefined && event.case !== 'error') {
      this.resumes.push({ server: this.server, resumeMs: performance.now() - this.droppedAt });
      this.droppedAt = undefined;
      this.resumeAttempts = 0;
    }
    switch (event.case) {
      case 'ready':
        this.sessionId = event.value.sessionId;
        this.resumeToken = event.value.resumeToken;
        this.resumeWindowMs = event.value.resumeWindowMs;
        break;
      case 'responseResumed': {
        // The reply goes on from where it was played to: its text from the piece then playing.
        const turn = this.turnFor(event.value.turnId);
        this.turnOfResponse.set(event.value.responseId, turn);
        turn.response_text = event.value.earlierText;
        this.activeResponseId = event.value.responseId;
        this.player.begin(event.value.responseId, event.value.playedMs);
        break;
      }
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
        if (!event.value.sessionContinues) this.finalError = event.value.code;
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

/** Call statuses that mean the gateway refused on purpose: a reconnect would only repeat it. */
const NOT_RESUMED_STATUS = new Set([grpc.status.CANCELLED, grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED, grpc.status.INVALID_ARGUMENT, grpc.status.FAILED_PRECONDITION, grpc.status.RESOURCE_EXHAUSTED, grpc.status.UNIMPLEMENTED]);
/** Waits between reconnect attempts after the first (which goes at once). */
const RESUME_BACKOFF_MS = [100, 250, 500, 1000, 2000] as const;

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

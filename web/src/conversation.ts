/**
 * One person's conversation with the gateway: the microphone goes out, replies come back and are
 * played (./reply-playback.ts: captions follow the voice, positions are reported so the gateway
 * knows what was heard), and a lost connection is retried: with the token of the latest `ready`
 * the conversation resumes where it was (its captions stay, a reply goes on from where it was
 * heard), on any replica. The gateway decides turns and barge-in; this only obeys (a reply is
 * flushed the moment the gateway says it was interrupted). The page shows what this reports
 * through a ConversationView.
 */
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { AudioGraph, MicrophoneError } from './audio/audio-graph.js';
import { pcm16ToBytes } from './audio/pcm.js';
import type { PlaybackReport } from './audio/worklet-messages.js';
import { gatewayUrl, VoiceSocket, type RequestEvent } from './connection.js';
import { reconnectDelayMs, retriesOnItsOwn } from './reconnect-policy.js';
import type { ClientSettings, TalkMode } from './settings.js';
import { ReplyPlayback, type PlayedPosition, type ReplyStatus } from './reply-playback.js';
import { ERROR_TITLES } from './error-titles.js';
import { metricsRecord, voiceStats } from './voice-stats.js';

export type ConnectionState = 'idle' | 'starting' | 'connecting' | 'live' | 'reconnecting' | 'stopped';
export type AgentState = 'listening' | 'user_speaking' | 'thinking' | 'speaking';
export type { ReplyStatus };

export interface Notice {
  level: 'error' | 'warning' | 'info';
  message: string;
  action?: { label: string; run: () => void };
}

export interface ConversationView {
  connection(state: ConnectionState): void;
  agent(state: AgentState): void;
  /** Loudness of the audio being sent, 0..1 (0 while nothing is sent). */
  micLevel(peak: number): void;
  userCaption(turnId: string, text: string, final: boolean): void;
  agentCaption(responseId: string, text: string, status: ReplyStatus): void;
  /** A tool the agent used: outcome undefined while it runs (server tools: tool_activity; this page's own tools it has none). */
  toolCaption(callId: string, name: string, server: string, outcome: string | undefined, durationMs: number): void;
  turnMetrics(metrics: pb.TurnMetrics): void;
  notice(notice: Notice | null): void;
}

export class Conversation {
  private audio: AudioGraph | null = null;
  private socket: VoiceSocket | null = null;
  private state: ConnectionState = 'idle';
  private agentState: AgentState = 'listening';
  private readonly replies = new ReplyPlayback({
    audio: () => this.audio,
    send: (event) => this.send(event),
    caption: (responseId, text, status) => this.view.agentCaption(responseId, text, status),
    agent: (state) => this.setAgent(state),
    thinking: () => this.agentState === 'thinking',
  });
  private talking = false;
  private muted = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private fatalError: pb.ErrorCode | undefined;
  private userStopped = false;
  /** What ends a turn in hands-free mode: the gateway's default unless that is commit. */
  private handsFreeSource = pb.EndOfTurnSource.UNSPECIFIED;
  /** The latest `ready.resume_token`: a reconnect continues the conversation with it. */
  private resumeToken = '';
  /** The reply that was playing when the connection went, and how much of it was played. */
  private playedAtDrop: PlayedPosition | undefined;

  constructor(
    private settings: ClientSettings,
    private readonly view: ConversationView,
  ) {}

  get connectionState(): ConnectionState {
    return this.state;
  }

  get isMuted(): boolean {
    return this.muted;
  }

  async start(): Promise<void> {
    if (this.state !== 'idle' && this.state !== 'stopped') return;
    this.userStopped = false;
    this.view.notice(null);
    this.setState('starting');
    try {
      this.audio ??= await AudioGraph.open({
        processing: this.settings.audioProcessing,
        onChunk: (samples, peak) => this.onMicrophone(samples, peak),
        onPlayback: (report) => this.onPlayback(report),
      });
      voiceStats.outputSampleRateHz = this.audio.sampleRateHz;
    } catch (error) {
      this.setState('idle');
      const message = error instanceof MicrophoneError ? error.message : `Audio could not start: ${error instanceof Error ? error.message : String(error)}`;
      this.view.notice({ level: 'error', message, action: { label: 'Try again', run: () => void this.start() } });
      return;
    }
    this.attempt = 0;
    this.connect();
  }

  stop(): void {
    this.userStopped = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.close();
    this.socket = null;
    void this.audio?.close();
    this.audio = null;
    this.view.notice(null);
    this.setState('idle');
  }

  setMode(mode: TalkMode): void {
    this.settings = { ...this.settings, mode };
    this.talking = false;
    this.send({ case: 'update', value: { settings: { turn: { endOfTurnSource: this.endOfTurnSource() } } } });
  }

  /** New settings: voice, language and prompt apply at once; audio processing on the next start. */
  applySettings(next: ClientSettings): void {
    const before = this.settings;
    this.settings = next;
    if (next.voice !== before.voice || next.language !== before.language || next.instructions !== before.instructions) {
      this.send({ case: 'update', value: { settings: { voice: next.voice, language: next.language, instructions: next.instructions } } });
    }
  }

  /** Push-to-talk: pressing interrupts a reply and opens the microphone; releasing ends the turn. */
  setTalking(on: boolean): void {
    if (this.settings.mode !== 'push-to-talk' || on === this.talking) return;
    this.talking = on;
    if (!on) {
      this.send({ case: 'commit', value: {} });
      return;
    }
    if (this.state === 'idle' || this.state === 'stopped') void this.start();
    const current = this.replies.current;
    if (current) {
      this.send({ case: 'interrupt', value: {} });
      this.replies.flush(current);
    }
  }

  toggleMute(): boolean {
    this.muted = !this.muted;
    return this.muted;
  }

  reconnectNow(): void {
    clearTimeout(this.reconnectTimer);
    if (!this.audio) return void this.start();
    if (this.socket) return;
    this.connect();
  }

  // --- connection ------------------------------------------------------------------------------

  private connect(): void {
    clearTimeout(this.reconnectTimer);
    this.fatalError = undefined;
    this.setState(this.attempt > 0 ? 'reconnecting' : 'connecting');
    let opened = false;
    const socket: VoiceSocket = new VoiceSocket(gatewayUrl(location), this.settings.accessKey, {
      opened: () => {
        opened = true;
        this.sendStart(socket);
      },
      message: (response) => {
        if (this.socket === socket) this.onMessage(response);
      },
      unreadable: (reason) => this.view.notice({ level: 'warning', message: `The gateway sent a message this page cannot read (${reason}). Reload the page to get the matching client.` }),
      closed: (code, reason) => {
        if (this.socket === socket) this.onClosed(code, reason, opened);
      },
    });
    this.socket = socket;
  }

  private sendStart(socket: VoiceSocket): void {
    if (this.resumeToken) {
      socket.send({ case: 'start', value: { resumeToken: this.resumeToken, ...(this.playedAtDrop ? { played: this.playedAtDrop } : {}), metadata: { client: 'web' } } });
      return;
    }
    const rate = this.audio?.sampleRateHz ?? 16000;
    const { language, voice, instructions } = this.settings;
    socket.send({
      case: 'start',
      value: {
        settings: {
          inputFormat: { encoding: pb.AudioEncoding.PCM16, sampleRateHz: rate },
          outputFormat: { encoding: pb.AudioEncoding.PCM16, sampleRateHz: rate },
          language,
          voice,
          instructions,
          turn: { endOfTurnSource: this.endOfTurnSource() },
        },
        metadata: { client: 'web' },
      },
    });
  }

  private onClosed(code: number, reason: string, opened: boolean): void {
    this.socket = null;
    this.endReplies();
    if (this.userStopped) return;
    if (this.fatalError === pb.ErrorCode.RESUME_REFUSED) {
      // The conversation cannot be resumed (its window passed, or it was taken over): a new one starts now.
      this.resumeToken = '';
      this.playedAtDrop = undefined;
      this.attempt = 1;
      this.connect();
      return;
    }
    if (!retriesOnItsOwn(code, this.fatalError)) {
      this.setState('stopped');
      const message = reason ? `The gateway ended the conversation: ${reason}` : `The connection closed (code ${code}).`;
      this.view.notice({ level: 'error', message, action: { label: 'Reconnect', run: () => this.reconnectNow() } });
      return;
    }
    const delayMs = reconnectDelayMs(this.attempt++, this.resumeToken !== '');
    this.setState('reconnecting');
    const what = opened ? `The connection to the gateway was lost${reason ? ` (${reason})` : ''}.` : 'The gateway cannot be reached.';
    this.view.notice({ level: 'warning', message: `${what} Reconnecting in ${Math.max(1, Math.ceil(delayMs / 1000))} s…`, action: { label: 'Reconnect now', run: () => this.reconnectNow() } });
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }

  // --- server events ---------------------------------------------------------------------------

  private onMessage(response: pb.ConverseResponse): void {
    const event = response.event;
    switch (event.case) {
      case 'ready':
        return this.onReady(event.value);
      case 'speechStarted':
        if (this.agentState === 'listening') this.setAgent('user_speaking');
        return;
      case 'speechStopped':
        if (this.agentState === 'user_speaking') this.setAgent('listening');
        return;
      case 'transcript': {
        const final = event.value.stability === pb.TranscriptStability.FINAL;
        if (final) voiceStats.finalTranscripts.push(event.value.text);
        return this.view.userCaption(event.value.turnId, event.value.text, final);
      }
      case 'responseStarted':
        return this.replies.started(event.value.responseId);
      case 'responseText':
        return this.replies.text(event.value.responseId, event.value.delta);
      case 'responseAudio':
        return this.replies.audio(event.value);
      case 'responseDone':
        return this.replies.done(event.value);
      case 'responsePaused':
        // The user spoke over the reply: stop it now. The queue is dropped (its position is reported
        // at once); if the gateway unpauses, it sends the audio again from that position.
        return this.replies.flush(event.value.responseId);
      case 'responseUnpaused':
        return;
      case 'turnMetrics':
        voiceStats.turnMetrics.push(metricsRecord(event.value));
        return this.view.turnMetrics(event.value);
      case 'error':
        return this.onServerError(event.value);
      case 'toolActivity': {
        const { callId, name, server, outcome, durationMs } = event.value;
        const ended = outcome === pb.ToolOutcome.UNSPECIFIED ? undefined : (pb.ToolOutcome[outcome] ?? 'done').toLowerCase();
        return this.view.toolCaption(callId, name, server, ended, durationMs);
      }
      case 'toolCall':
      case 'toolCallCancelled':
        return; // this page declares no tools of its own, so the gateway never calls one
      case 'responseResumed':
        return this.replies.resumed(event.value);
      case undefined:
        return;
    }
  }

  private onReady(ready: pb.SessionReady): void {
    const reconnected = this.attempt > 0;
    this.attempt = 0;
    voiceStats.sessionId = ready.sessionId;
    const serverSource = ready.settings?.turn?.endOfTurnSource ?? pb.EndOfTurnSource.UNSPECIFIED;
    this.handsFreeSource = serverSource === pb.EndOfTurnSource.COMMIT ? pb.EndOfTurnSource.VAD : serverSource;
    if (this.settings.mode === 'hands-free' && serverSource === pb.EndOfTurnSource.COMMIT) this.setMode('hands-free');
    this.resumeToken = ready.resumeToken;
    this.playedAtDrop = undefined;
    voiceStats.resumes += ready.resumed ? 1 : 0;
    this.setState('live');
    this.setAgent('listening');
    const again = ready.resumed ? 'Reconnected: the conversation goes on.' : 'Reconnected. The gateway starts a new conversation.';
    this.view.notice(reconnected ? { level: 'info', message: again } : null);
  }

  private onServerError(error: pb.Error): void {
    voiceStats.errors.push({ code: pb.ErrorCode[error.code] ?? String(error.code), message: error.message, sessionContinues: error.sessionContinues });
    if (!error.sessionContinues) this.fatalError = error.code;
    this.view.notice({ level: error.sessionContinues ? 'warning' : 'error', message: `${ERROR_TITLES[error.code] ?? 'The gateway reports a problem'}: ${error.message}` });
  }

  // --- audio -----------------------------------------------------------------------------------

  private onMicrophone(samples: Int16Array, peak: number): void {
    const sending = this.state === 'live' && (this.settings.mode === 'push-to-talk' ? this.talking : !this.muted);
    this.view.micLevel(sending ? peak : 0);
    if (!sending || !this.socket) return;
    if (this.socket.sendAudio(pcm16ToBytes(samples))) voiceStats.audioChunksSent++;
    voiceStats.audioChunksDropped = this.socket.droppedAudioChunks;
  }

  private onPlayback(report: PlaybackReport): void {
    voiceStats.samplesPlayed = report.playedSamples;
    voiceStats.soundSamples = report.soundSamples;
    voiceStats.peak = report.peak;
    this.replies.played(report);
  }

  /** The connection is gone: replies in flight stop where they were heard (a resume may go on from there). */
  private endReplies(): void {
    const stoppedAt = this.replies.connectionLost();
    if (stoppedAt) this.playedAtDrop = stoppedAt;
    this.talking = false;
    this.setAgent('listening');
  }

  // --- plumbing --------------------------------------------------------------------------------

  private endOfTurnSource(): pb.EndOfTurnSource {
    return this.settings.mode === 'push-to-talk' ? pb.EndOfTurnSource.COMMIT : this.handsFreeSource;
  }

  private send(event: RequestEvent): void {
    this.socket?.send(event);
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    voiceStats.connection = state;
    this.view.connection(state);
  }

  private setAgent(state: AgentState): void {
    if (this.agentState === state) return;
    this.agentState = state;
    this.view.agent(state);
  }

}

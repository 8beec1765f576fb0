/**
 * The agent's replies as this page plays them: their audio goes to the player, their captions
 * follow the voice, and playback positions go back to the gateway so it knows what was heard
 * (it cuts its history there on barge-in, and a resume goes on from there). A reply the gateway
 * says was interrupted is flushed at once; after a resume the reply that was playing goes on in
 * the same caption.
 */
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import type { AudioGraph } from './audio/audio-graph.js';
import { pcm16FromBytes, samplesToMs } from './audio/pcm.js';
import type { PlaybackReport } from './audio/worklet-messages.js';
import type { RequestEvent } from './connection.js';
import { CaptionTimeline } from './ui/caption-timeline.js';
import { voiceStats } from './voice-stats.js';

export type ReplyStatus = 'pending' | 'speaking' | 'completed' | 'interrupted' | 'failed';

/** Where the client had played a reply (what a resume goes on from). */
export interface PlayedPosition {
  responseId: string;
  playedMs: number;
}

/** What the replies need of their conversation. */
export interface ReplyHost {
  /** The player, while audio runs. */
  audio(): AudioGraph | null;
  /** A client event over the current connection (dropped while there is none). */
  send(event: RequestEvent): void;
  caption(responseId: string, text: string, status: ReplyStatus): void;
  /** The agent is thinking (a reply started), speaking (its audio plays) or listening (it ended). */
  agent(state: 'thinking' | 'speaking' | 'listening'): void;
  /** True while the agent is thinking: its first audio played turns it to speaking. */
  thinking(): boolean;
}

interface Reply {
  timeline: CaptionTimeline;
  status: ReplyStatus;
  playedMs: number;
  reportedMs: number;
  flushRequestedAt?: number;
}

/** Playback positions go to the gateway this often while a reply plays (and at its end). */
const PLAYBACK_REPORT_EVERY_MS = 100;
const REMEMBERED_REPLIES = 8;

export class ReplyPlayback {
  private readonly replies = new Map<string, Reply>();
  /** The reply the agent is on, if any. */
  private currentId: string | null = null;

  constructor(private readonly host: ReplyHost) {}

  get current(): string | null {
    return this.currentId;
  }

  started(responseId: string): void {
    this.replies.set(responseId, { timeline: new CaptionTimeline(), status: 'pending', playedMs: 0, reportedMs: 0 });
    const oldest = this.replies.keys().next().value;
    if (this.replies.size > REMEMBERED_REPLIES && oldest !== undefined) this.replies.delete(oldest);
    this.currentId = responseId;
    this.host.agent('thinking');
    this.host.caption(responseId, '', 'pending');
  }

  /** After a resume the reply that was playing goes on from where it was heard, in the same caption. */
  resumed(resumed: pb.ResponseResumed): void {
    const timeline = new CaptionTimeline();
    timeline.addText(resumed.earlierText);
    timeline.addAudio(resumed.playedMs);
    this.replies.set(resumed.responseId, { timeline, status: 'pending', playedMs: resumed.playedMs, reportedMs: resumed.playedMs });
    this.currentId = resumed.responseId;
    this.host.agent('thinking');
    this.host.caption(resumed.responseId, resumed.earlierText, 'pending');
  }

  text(responseId: string, delta: string): void {
    this.replies.get(responseId)?.timeline.addText(delta);
  }

  audio(audio: pb.ResponseAudio): void {
    const reply = this.replies.get(audio.responseId);
    const player = this.host.audio();
    if (!reply || !player || (reply.status !== 'pending' && reply.status !== 'speaking')) return;
    const samples = pcm16FromBytes(audio.data);
    // Audio sent again (after an unpause or a resume) starts before what came: only new audio lengthens the timeline.
    const endMs = audio.offsetMs + samplesToMs(samples.length, player.sampleRateHz);
    reply.timeline.addAudio(Math.max(0, endMs - reply.timeline.audioReceivedMs));
    player.play(audio.responseId, samples);
    this.record(audio.responseId, reply);
  }

  done(done: pb.ResponseDone): void {
    const reply = this.replies.get(done.responseId);
    if (!reply) return;
    const status: ReplyStatus =
      done.status === pb.ResponseStatus.INTERRUPTED ? 'interrupted' : done.status === pb.ResponseStatus.FAILED ? 'failed' : 'completed';
    // The gateway stopped this reply (barge-in, interrupt): what is still queued must not play.
    if (status !== 'completed') this.flush(done.responseId);
    reply.status = status;
    this.record(done.responseId, reply);
    this.host.caption(done.responseId, status === 'completed' ? done.heardText || reply.timeline.fullText : done.heardText, status);
    if (this.currentId === done.responseId) {
      this.currentId = null;
      this.host.agent('listening');
    }
  }

  /** The player reports what it played: captions follow, and the gateway hears of it. */
  played(report: PlaybackReport): void {
    const rate = this.host.audio()?.sampleRateHz ?? 16000;
    for (const [responseId, samples] of report.played) {
      const reply = this.replies.get(responseId);
      if (!reply) continue;
      const playedMs = samplesToMs(samples, rate);
      const flushed = report.flushed !== undefined && (report.flushed.responseId ?? responseId) === responseId && reply.flushRequestedAt !== undefined;
      if (flushed) this.recordFlush(responseId, reply, samplesToMs(report.flushed?.droppedSamples ?? 0, rate), playedMs);
      if (playedMs === reply.playedMs && !flushed) continue;
      reply.playedMs = playedMs;
      this.record(responseId, reply);
      if (reply.status === 'pending' || reply.status === 'speaking') {
        if (playedMs > 0) reply.status = 'speaking';
        if (playedMs > 0 && this.currentId === responseId && this.host.thinking()) this.host.agent('speaking');
        this.host.caption(responseId, reply.timeline.textAt(playedMs), reply.status);
      }
      // The gateway cuts its history to what was heard: report often, at the end, and after a flush.
      const atEnd = playedMs >= reply.timeline.audioReceivedMs && playedMs > reply.reportedMs;
      if (flushed || atEnd || playedMs - reply.reportedMs >= PLAYBACK_REPORT_EVERY_MS) {
        this.host.send({ case: 'playback', value: { responseId, playedMs: Math.round(playedMs) } });
        reply.reportedMs = playedMs;
      }
    }
  }

  /** What is queued of this reply must not play. */
  flush(responseId: string): void {
    const reply = this.replies.get(responseId);
    if (reply && reply.flushRequestedAt === undefined) reply.flushRequestedAt = performance.now();
    this.host.audio()?.flush(responseId);
  }

  /**
   * The connection is gone: replies in flight stop where they were heard. Returns where the one
   * the agent was on stopped, for a resume to go on from.
   */
  connectionLost(): PlayedPosition | undefined {
    this.host.audio()?.flush();
    const current = this.currentId ? this.replies.get(this.currentId) : undefined;
    const stoppedAt = this.currentId && current && (current.status === 'pending' || current.status === 'speaking') ? { responseId: this.currentId, playedMs: Math.round(current.playedMs) } : undefined;
    for (const [id, reply] of this.replies) {
      if (reply.status !== 'pending' && reply.status !== 'speaking') continue;
      reply.status = 'interrupted';
      this.host.caption(id, reply.timeline.textAt(reply.playedMs), 'interrupted');
    }
    this.currentId = null;
    return stoppedAt;
  }

  private record(responseId: string, reply: Reply): void {
    voiceStats.replies[responseId] = { status: reply.status, audioReceivedMs: reply.timeline.audioReceivedMs, playedMs: reply.playedMs };
  }

  private recordFlush(responseId: string, reply: Reply, droppedMs: number, playedMs: number): void {
    voiceStats.flushes.push({ responseId, droppedMs, playedMs, requestedAtMs: reply.flushRequestedAt ?? 0, confirmedAtMs: performance.now() });
  }
}

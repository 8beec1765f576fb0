/**
 * What the resume tests share: a conversation through the real client (`ask`/`talk`'s
 * Conversation) that records every event, the long reply it is cut off in, and what the history
 * should hold of a reply cut at a played position (the scripted TTS speaks 50 ms per character,
 * so the pieces' places on the audio timeline are known).
 */
import assert from 'node:assert/strict';
import { Conversation } from '../../src/client/conversation.js';
import { ReplyPlayer } from '../../src/client/reply-player.js';
import { heardText, type SpokenPiece } from '../../src/core/history.js';
import type * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { waitUntil } from '../support/wait-until.js';
import { within } from '../support/within.js';

/** A bound on each wait for an event, so a hang fails with what was awaited: never a judge of speed. */
export const HANG_MS = 90_000;

export const MS_PER_CHAR = 50;
export const SYSTEM_PROMPT = 'You are a test assistant.';
export const FIRST_REPLY = 'The first answer is short.';
/** About twenty seconds of speech: still playing when the connection goes. */
export const LONG_REPLY = [
  'Here is the long answer you asked for.',
  'It goes on for quite a while to be cut.',
  'The third sentence is about the weather.',
  'The fourth sentence is about the lights.',
  'The fifth sentence is about the kitchen.',
  'The sixth sentence is about the garden.',
  'The seventh sentence is nearly the end.',
  'And this is the last sentence of it all.',
].join(' ');
export const AFTER_REPLY = 'Yes, I remember.';

/** The scripted LLM: the first question gets a short answer, the second the long one. */
export function scriptedReply(request: { messages: Array<{ role: string; content: string }> }): string {
  const asked = request.messages.filter((m) => m.role === 'user').length;
  return asked === 1 ? FIRST_REPLY : asked === 2 ? LONG_REPLY : AFTER_REPLY;
}

/** A gateway process (memory store) with the scripted providers, and the scripted LLM it asks. */
export interface ResumeGateway {
  llm: ScriptedServer;
  gateway: GatewayProcess;
  stop(): Promise<void>;
}

export async function startResumeGateway(): Promise<ResumeGateway> {
  const llm = await startScriptedOpenAiServer({ reply: scriptedReply });
  const gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], {
    LLM_BASE_URL: llm.baseUrl,
    LLM_SYSTEM_PROMPT: SYSTEM_PROMPT,
    SCRIPTED_TTS_MS_PER_CHAR: String(MS_PER_CHAR),
  });
  return {
    llm,
    gateway,
    async stop() {
      await gateway.stop();
      await llm.close();
    },
  };
}

export interface RecordedConversation {
  conversation: Conversation;
  player: ReplyPlayer;
  events: pb.ConverseResponse[];
  /** The reply whose response_done has come, with its status and heard text. */
  done(responseId: string): pb.ResponseDone | undefined;
  /** Text deltas of a reply, in order (each a TTS piece). */
  pieces(responseId: string): string[];
  /** The first event at index `from` or later that `matches`: resolves when it arrives (or has). */
  next(what: string, matches: (e: pb.ConverseResponse) => boolean, from?: number): Promise<pb.ConverseResponse>;
}

export function converse(server: string): RecordedConversation {
  const events: pb.ConverseResponse[] = [];
  const waiters = new Set<(e: pb.ConverseResponse, index: number) => void>();
  const player = new ReplyPlayer(16000, { keepHeard: false });
  const onEvent = (e: pb.ConverseResponse) => {
    events.push(e);
    for (const wake of [...waiters]) wake(e, events.length - 1);
  };
  // A connection of its own, as separate clients have (through a proxy too).
  const conversation = new Conversation({ server, inputSampleRateHz: 16000, outputSampleRateHz: 16000, player, onEvent, playbackReportMs: 100, ownConnection: true });
  const next = (what: string, matches: (e: pb.ConverseResponse) => boolean, from = 0) => {
    const seen = events.slice(from).find(matches);
    if (seen) return Promise.resolve(seen);
    let wake: (e: pb.ConverseResponse, index: number) => void = () => undefined;
    const arrived = new Promise<pb.ConverseResponse>((resolve) => {
      wake = (e, index) => {
        if (index >= from && matches(e)) resolve(e);
      };
      waiters.add(wake);
    });
    return within(arrived, HANG_MS, what).finally(() => waiters.delete(wake));
  };
  return {
    conversation,
    next,
    player,
    events,
    done: (responseId) => {
      for (const e of events) if (e.event.case === 'responseDone' && e.event.value.responseId === responseId) return e.event.value;
      return undefined;
    },
    pieces: (responseId) => events.flatMap((e) => (e.event.case === 'responseText' && e.event.value.responseId === responseId ? [e.event.value.delta.trim()] : [])),
  };
}

/** Asks `text` and waits for the reply to start; returns its id. */
export async function ask(recorded: RecordedConversation, text: string): Promise<string> {
  const before = recorded.events.length;
  recorded.conversation.sendText(text);
  const started = await recorded.next(`a reply to "${text}"`, (e) => e.event.case === 'responseStarted', before);
  assert.ok(started.event.case === 'responseStarted');
  return started.event.value.responseId;
}

/** Waits until the client has played `ms` of reply `responseId`. */
export async function playedAtLeast(recorded: RecordedConversation, responseId: string, ms: number): Promise<void> {
  await waitUntil(() => {
    const at = recorded.player.position;
    return at?.responseId === responseId && at.playedMs >= ms;
  }, `${ms} ms of ${responseId} played`, 60_000);
}

/** What the history holds of a reply whose pieces were these, cut after `playedMs`. */
export function expectedCut(pieceTexts: string[], playedMs: number): string {
  let startMs = 0;
  const pieces: SpokenPiece[] = pieceTexts.map((text) => {
    const piece = { text, startMs, durationMs: text.length * MS_PER_CHAR, complete: true };
    startMs += piece.durationMs;
    return piece;
  });
  return heardText(pieces, playedMs);
}

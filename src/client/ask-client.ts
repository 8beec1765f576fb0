/**
 * A client that speaks a recording like a listener: it streams the speech at real-time pace (or as
 * fast as possible), keeps its microphone open with silence afterwards, plays each reply at
 * real-time pace (./conversation.ts does the listening), and ends once the conversation settles.
 */
import type * as pb from '../gen/voice/v1/voice_pb.js';
import { Conversation, type ConversationTurn } from './conversation.js';
import { ReplyPlayer } from './reply-player.js';
import type { ClientTools } from './tool-command.js';

export type AskTurn = ConversationTurn;

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
  /** Tools to declare and run when the gateway calls them. */
  tools?: ClientTools;
}

export interface AskResult {
  sessionId: string;
  turns: AskTurn[];
  /** What the listener heard, back to back, at the output rate. */
  heardPcm: Int16Array;
  outputSampleRateHz: number;
  errors: Array<{ code: string; message: string }>;
}

export async function ask(options: AskOptions): Promise<AskResult> {
  const chunkMs = options.chunkMs ?? 100;
  const settleMs = options.settleMs ?? 2500;
  const outputRateHz = options.outputSampleRateHz ?? 16000;
  const player = new ReplyPlayer(outputRateHz);
  const conversation = new Conversation({
    server: options.server,
    inputSampleRateHz: options.sampleRateHz,
    outputSampleRateHz: outputRateHz,
    settings: options.settings,
    player,
    onEvent: options.onEvent,
    tools: options.tools,
  });

  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  try {
    const samplesPerChunk = Math.round((options.sampleRateHz * chunkMs) / 1000);
    const silence = new Int16Array(samplesPerChunk);
    const startedAt = Date.now();
    let sentMs = 0;
    const pace = async () => {
      sentMs += chunkMs;
      const aheadMs = startedAt + sentMs - Date.now();
      if (aheadMs > 0) await new Promise((r) => setTimeout(r, aheadMs));
    };
    for (let at = 0; at < options.pcm.length && !conversation.finished; at += samplesPerChunk) {
      conversation.sendAudio(options.pcm.subarray(at, at + samplesPerChunk));
      if (!options.fast) await pace();
      else await new Promise((r) => setImmediate(r));
    }
    conversation.lastActivityAt = Date.now();
    const texts = [...(options.texts ?? [])];
    // The microphone stays open (silence) until the conversation has settled.
    while (Date.now() < deadline && !conversation.finished) {
      const quiet = conversation.quietFor(settleMs);
      if (quiet && texts.length === 0) break;
      if (quiet) conversation.sendText(texts.shift()!);
      conversation.sendAudio(silence);
      await pace();
    }
  } finally {
    await conversation.close();
  }
  return {
    sessionId: conversation.sessionId,
    turns: conversation.turnsSoFar(),
    heardPcm: player.heard(),
    outputSampleRateHz: outputRateHz,
    errors: conversation.errors,
  };
}

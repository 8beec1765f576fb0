/**
 * Numbers about what the page did, published as `window.__voiceStats` (by main.ts): the browser
 * test reads them (was reply audio played, was it flushed at once), and they help when debugging
 * from the console. No DOM here, so Node code can share the types.
 */
import type { TurnMetrics } from '../../src/gen/voice/v1/voice_pb.js';
export interface FlushRecord {
  responseId: string;
  /** Reply audio dropped unplayed. */
  droppedMs: number;
  /** How much of the reply had been played when it was flushed. */
  playedMs: number;
  /** From the flush request to the worklet confirming it (performance.now() ms). */
  requestedAtMs: number;
  confirmedAtMs: number;
}

export interface VoiceStats {
  sessionId: string;
  connection: string;
  audioChunksSent: number;
  audioChunksDropped: number;
  /** Reply samples handed to the speakers, those with sound in them, and the loudest. */
  samplesPlayed: number;
  soundSamples: number;
  peak: number;
  outputSampleRateHz: number;
  finalTranscripts: string[];
  replies: Record<string, { status: string; audioReceivedMs: number; playedMs: number }>;
  flushes: FlushRecord[];
  turnMetrics: Array<Record<string, number | string>>;
  errors: Array<{ code: string; message: string; sessionContinues: boolean }>;
  /** Sessions resumed after a lost connection (ready.resumed). */
  resumes: number;
}

export const voiceStats: VoiceStats = {
  sessionId: '',
  connection: 'idle',
  audioChunksSent: 0,
  audioChunksDropped: 0,
  samplesPlayed: 0,
  soundSamples: 0,
  peak: 0,
  outputSampleRateHz: 0,
  finalTranscripts: [],
  replies: {},
  flushes: [],
  turnMetrics: [],
  errors: [],
  resumes: 0,
};

/** A turn's metrics as plain data (what the test reads and what a console shows well). */
export function metricsRecord(m: TurnMetrics): Record<string, number | string> {
  return {
    turnId: m.turnId,
    responseId: m.responseId,
    eouDelayMs: m.eouDelayMs,
    asrFinalMs: m.asrFinalMs,
    llmTtftMs: m.llmTtftMs,
    llmFirstPieceMs: m.llmFirstPieceMs,
    ttsTtfbMs: m.ttsTtfbMs,
    voiceToVoiceMs: m.voiceToVoiceMs,
  };
}

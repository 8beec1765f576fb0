/**
 * What a turn would take if the gateway added nothing: the end-of-turn window plus the simulated
 * backends' own latencies on the path to the first reply audio, known from the profile. The bench
 * subtracts it from what it measures; the rest is the gateway's overhead (its physical limit is 0).
 */
import { FIRST_PIECE_MIN_CHARS } from '../core/turn-config.js';
import { SpeakableSplitter } from '../core/speakable-splitter.js';
import { simulatedTranscript } from '../providers/simulated/asr.js';
import { simulatedReplyTokens, simulatedTokenDueMs } from '../providers/simulated/llm.js';
import type { SimulatedProfile } from '../providers/simulated/profile.js';

export interface TurnWindows {
  endOfTurnSource: 'vad' | 'asr';
  /** The silence that ends a turn when VAD decides (from the session's `ready`). */
  endOfTurnSilenceMs: number;
  /** Speech that interrupts a reply (from the session's `ready`). */
  bargeInMinSpeechMs: number;
}

export interface ExpectedLatency {
  /** Silence after speech before the turn ends: VAD's window, or the recognizer's end of utterance. */
  endOfTurnMs: number;
  /** The recognizer's final after the end of the utterance. */
  asrFinalMs: number;
  /** From the LLM request to the first speakable piece (the splitter's first cut). */
  llmFirstPieceMs: number;
  /** A tool round before the reply: the LLM's call (its first token time) and the tool's answer. */
  toolRoundMs: number;
  ttsFirstByteMs: number;
  /** Everything above: the voice-to-voice latency of a gateway that adds nothing. */
  voiceToVoiceMs: number;
  /**
   * The same for a turn whose reply started on the stable interim (speculative start, a hit): its
   * audio is ready at stable interim + LLM first piece + TTS first byte and held until the final
   * confirms it. Null when the profile sends no stable interim.
   */
  speculativeVoiceToVoiceMs: number | null;
  /** From speech onset to the reply stopping, for a gateway that adds nothing. */
  bargeInMs: number;
}

/**
 * `speechMs`: how long the caller speaks (the simulated recognizer's words, and so an echo reply,
 * depend on it). `maxPieceChars`: the server's TTS_MAX_PIECE_CHARS.
 */
export function expectedLatency(profile: SimulatedProfile, windows: TurnWindows, speechMs: number, maxPieceChars: number, toolLatencyMs: number | null = null): ExpectedLatency {
  const endOfTurnMs = windows.endOfTurnSource === 'asr' ? profile.asr.endOfUtteranceMs : windows.endOfTurnSilenceMs;
  const transcript = simulatedTranscript(speechMs, profile.asr.msPerWord);
  const llmFirstPieceMs = round1(firstPieceMs(profile, transcript, maxPieceChars));
  const toolRoundMs = toolLatencyMs === null ? 0 : profile.llm.firstTokenMs + toolLatencyMs;
  const parts = { endOfTurnMs, asrFinalMs: profile.asr.finalDelayMs, llmFirstPieceMs, toolRoundMs, ttsFirstByteMs: profile.tts.firstByteMs };
  const final = parts.endOfTurnMs + parts.asrFinalMs;
  const afterCall = (toolLatencyMs ?? 0) + parts.llmFirstPieceMs + parts.ttsFirstByteMs;
  // A tool never runs early: an early reply's call waits for the final, so only the LLM's call time can be saved.
  const early = toolLatencyMs === null ? null : Math.max(final, profile.asr.stableInterimMs + profile.llm.firstTokenMs) + afterCall;
  return {
    ...parts,
    voiceToVoiceMs: round1(final + parts.toolRoundMs + parts.llmFirstPieceMs + parts.ttsFirstByteMs),
    speculativeVoiceToVoiceMs:
      profile.asr.stableInterimMs > 0 ? round1(early ?? Math.max(final, profile.asr.stableInterimMs + parts.llmFirstPieceMs + parts.ttsFirstByteMs)) : null,
    bargeInMs: windows.bargeInMinSpeechMs,
  };
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;

/** When the gateway's splitter cuts the first piece of the simulated reply: fed the same tokens. */
function firstPieceMs(profile: SimulatedProfile, transcript: string, maxPieceChars: number): number {
  const tokens = simulatedReplyTokens(profile.llm, [{ role: 'user', content: transcript }]);
  const splitter = new SpeakableSplitter({ maxPieceChars, firstPieceMinChars: FIRST_PIECE_MIN_CHARS });
  for (let i = 0; i < tokens.length; i++) {
    if (splitter.push(tokens[i]!).length > 0) return simulatedTokenDueMs(profile.llm, i);
  }
  return simulatedTokenDueMs(profile.llm, tokens.length - 1); // the whole reply is one piece, cut at its end
}

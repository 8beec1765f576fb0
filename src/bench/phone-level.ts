/**
 * The bench's phone callers (`--transport twilio|asterisk|jambonz`): the audio made once, the gateway's
 * turn settings (a carrier is not told them, so they are read from the same settings the spawned
 * gateway runs with), and a factory for runLevel.
 */
import { SETTINGS } from '../config/schema.js';
import type { SimulatedProfile } from '../providers/simulated/profile.js';
import type { TurnWindows } from './expected-latency.js';
import type { LevelOptions } from './load-level.js';
import { PhoneAudio, PhoneCaller, type PhoneTransport } from './phone-caller.js';
import type { Utterance } from './utterance.js';

function setting(name: 'TURN_END_SOURCE' | 'TURN_END_SILENCE_MS' | 'BARGE_IN_MIN_SPEECH_MS' | 'SPECULATIVE_START'): string {
  return process.env[name] ?? SETTINGS[name].default;
}

export async function phoneCallers(
  transport: PhoneTransport,
  httpAddress: string,
  utterance: Utterance,
  profile: SimulatedProfile,
  turn: { pauseMs: number; bargeInAfterMs: number | null; replyTimeoutMs: number },
): Promise<NonNullable<LevelOptions['createCaller']>> {
  const audio = await PhoneAudio.create(utterance);
  const source = setting('TURN_END_SOURCE');
  if (source === 'commit') throw new Error('the gateway ends turns on commit (push-to-talk): a phone call cannot commit; run it with TURN_END_SOURCE=vad or asr');
  const windows: TurnWindows = {
    endOfTurnSource: source === 'asr' ? 'asr' : 'vad',
    endOfTurnSilenceMs: Number(setting('TURN_END_SILENCE_MS')),
    bargeInMinSpeechMs: Number(setting('BARGE_IN_MIN_SPEECH_MS')),
  };
  // The simulated recognizer's stable interim always equals its final, so with speculative start
  // every turn is a hit (BENCHMARKS.md); a carrier cannot see turn_metrics to know.
  const speculative = ['true', '1', 'yes'].includes(setting('SPECULATIVE_START')) && profile.asr.stableInterimMs > 0 ? 'hit' : 'none';
  return (limits, clock, recorder) =>
    new PhoneCaller({ transport, wsBase: `ws://${httpAddress}`, audio, windows, speculative, ...turn, ...limits }, clock, recorder);
}

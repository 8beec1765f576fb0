/**
 * Answers "which voices can a session choose" (voice.v1 ListVoices) from the speech synthesizer:
 * Riva's GetRivaSynthesisConfig, espeak's installed voices. The same credential as a session is
 * needed, and the backend is asked at most once per `cacheMs`, so the call cannot be used to load it.
 */
import type { SpeechSynthesizer, VoiceInfo } from '../../providers/types.js';
import { speaksLanguage } from '../../providers/voices.js';

export type VoiceListing = { voices: VoiceInfo[] } | { refused: string; code: 'unauthenticated' | 'unimplemented' | 'unavailable' };

/** `language`: only voices that speak it ('' for all); `credential` as for a session. */
export type VoiceLister = (language: string, credential: string | undefined) => Promise<VoiceListing>;

export function createVoiceLister(tts: SpeechSynthesizer, verify: (credential: string | undefined) => Promise<string | null>, cacheMs = 30_000): VoiceLister {
  let cached: { voices: Promise<VoiceInfo[]>; at: number } | null = null;
  return async (language, credential) => {
    const refusal = await verify(credential);
    if (refusal) return { refused: refusal, code: 'unauthenticated' };
    if (!tts.listVoices) return { refused: 'this gateway\'s speech synthesizer cannot list its voices: set SessionSettings.voice to a name it documents, or leave it empty for the default', code: 'unimplemented' };
    if (!cached || performance.now() - cached.at > cacheMs) cached = { voices: tts.listVoices(), at: performance.now() };
    const current = cached;
    try {
      const voices = await current.voices;
      return { voices: language ? voices.filter((v) => speaksLanguage(v, language)) : voices };
    } catch (error) {
      if (cached === current) cached = null; // a failure is not kept: the next call asks again
      return { refused: `the speech synthesizer could not list its voices: ${error instanceof Error ? error.message : String(error)}`, code: 'unavailable' };
    }
  };
}

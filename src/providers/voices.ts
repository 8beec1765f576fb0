/** Choosing among the voices a synthesizer lists (`SpeechSynthesizer.listVoices`). */
import type { VoiceInfo } from './types.js';

/**
 * A voice speaks `language` when one of its languages is it, case aside, or is its base or a
 * variant of it ("en" for "en-US" and the other way round): engines name languages differently.
 */
export function speaksLanguage(voice: VoiceInfo, language: string): boolean {
  // Piper voices (Wyoming) say "en_US".
  const wanted = language.toLowerCase().replaceAll('_', '-');
  const wantedBase = wanted.split('-')[0];
  return voice.languages.some((l) => {
    const have = l.toLowerCase().replaceAll('_', '-');
    return have === wanted || have === wantedBase || wanted === have.split('-')[0];
  });
}

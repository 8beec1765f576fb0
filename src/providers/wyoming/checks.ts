/**
 * Checks of the configured Wyoming servers (`voice-gateway doctor`, and at every start as
 * warnings): `describe` answered by `info`, and in it an installed model for the language (ASR)
 * or the voice (TTS).
 */
import type { Config } from '../../config/schema.js';
import { fail, ok, skip, type BackendCheck } from '../checks/check-result.js';
import { speaksLanguage } from '../voices.js';
import { describe, parseWyomingUri, type WyomingService } from './connection.js';
import type { WyomingArtifact, WyomingInfo } from './protocol.js';

const URI_SETTING = { asr: 'WYOMING_ASR_URI', tts: 'WYOMING_TTS_URI' } as const;
const DEFAULT_PORT = { asr: 'wyoming-faster-whisper listens on 10300', tts: 'wyoming-piper listens on 10200' } as const;

export async function checkWyoming(config: Config, kind: WyomingService): Promise<BackendCheck[]> {
  const backend = `wyoming-${kind}`;
  const uri = kind === 'asr' ? config.WYOMING_ASR_URI : config.WYOMING_TTS_URI;
  const check = `describe (${uri})`;
  let info: WyomingInfo;
  try {
    const timeoutMs = kind === 'asr' ? config.ASR_TIMEOUT_MS : config.TTS_TIMEOUT_MS;
    info = await describe(parseWyomingUri(uri), kind, { timeoutMs, timeoutSetting: `${kind.toUpperCase()}_TIMEOUT_MS`, maxEventBytes: config.SPEECH_MAX_MESSAGE_BYTES });
  } catch (error) {
    return [
      fail(backend, check, error instanceof Error ? error.message : String(error), `check ${URI_SETTING[kind]} and that the server is running (${DEFAULT_PORT[kind]})`),
      skip(backend, kind === 'asr' ? 'model' : 'voice', 'not checked: no info from the server'),
    ];
  }
  const programs = kind === 'asr' ? info.asr : info.tts;
  if (programs.length === 0) {
    const offers = [info.asr.length > 0 && 'speech-to-text', info.tts.length > 0 && 'text-to-speech'].filter(Boolean).join(' and ') || 'nothing we use';
    return [fail(backend, check, `the server's info lists no ${kind === 'asr' ? 'speech-to-text (asr)' : 'text-to-speech (tts)'} program; it offers ${offers}`, `check ${URI_SETTING[kind]}: it may point at the other server`)];
  }
  const streaming = kind === 'asr' ? info.asr.some((p) => p.supportsTranscriptStreaming) : false;
  const rows = [ok(backend, check, `${programs.map((p) => p.name).join(', ')}${streaming ? ' (streams transcripts)' : ''}`)];
  if (kind === 'asr') rows.push(asrModel(config, info.asr.flatMap((p) => p.models)));
  else rows.push(ttsVoice(config, info.tts.flatMap((p) => p.voices)));
  return rows;
}

const names = (list: WyomingArtifact[]) => list.map((a) => `${a.name}${a.installed ? '' : ' (not installed)'}`).join(', ') || 'none';

function asrModel(config: Config, models: WyomingArtifact[]): BackendCheck {
  const language = config.ASR_LANGUAGE;
  // A model that lists no languages is taken to detect the language itself.
  const usable = models.filter((m) => m.installed && (m.languages.length === 0 || speaksLanguage(m, language)) && (!config.ASR_MODEL || m.name === config.ASR_MODEL));
  if (usable.length > 0) return ok('wyoming-asr', 'model', `${usable.map((m) => m.name).join(', ')} for ${language}`);
  const wanted = `installed model for ASR_LANGUAGE=${language}${config.ASR_MODEL ? ` named ASR_MODEL=${config.ASR_MODEL}` : ''}`;
  return fail('wyoming-asr', 'model', `no ${wanted}; offered: ${names(models)}`, 'start the server with a model for the language, or set ASR_LANGUAGE (and ASR_MODEL) to one it offers');
}

function ttsVoice(config: Config, voices: WyomingArtifact[]): BackendCheck {
  if (config.TTS_VOICE) {
    const voice = voices.find((v) => v.name === config.TTS_VOICE);
    if (voice?.installed) return ok('wyoming-tts', 'voice', `TTS_VOICE=${config.TTS_VOICE} is installed (${voice.languages.join(', ')})`);
    if (voice) return ok('wyoming-tts', 'voice', `TTS_VOICE=${config.TTS_VOICE} is offered; the server downloads it at first use`);
    return fail('wyoming-tts', 'voice', `TTS_VOICE=${config.TTS_VOICE} is not offered; offered: ${names(voices.slice(0, 20))}${voices.length > 20 ? ', ...' : ''}`, 'set TTS_VOICE to an offered voice, or leave it empty for the server\'s default');
  }
  const forLanguage = voices.filter((v) => v.installed && speaksLanguage(v, config.ASR_LANGUAGE));
  if (forLanguage.length > 0) return ok('wyoming-tts', 'voice', `TTS_VOICE is empty: the server's default voice; installed for ${config.ASR_LANGUAGE}: ${names(forLanguage)}`);
  return fail('wyoming-tts', 'voice', `no installed voice speaks ${config.ASR_LANGUAGE}; offered: ${names(voices.slice(0, 20))}`, 'start the server with a voice for the language (wyoming-piper --voice), or set TTS_VOICE');
}

/**
 * Checks of the configured speech servers (OpenAI-compatible and Wyoming): each one's own checks
 * and, with `deep` (`voice-gateway doctor`), one word synthesized and recognized back through the
 * gateway's own providers, which shows both directions of audio work end to end.
 */
import type { Config } from '../config/schema.js';
import { fail, ok, skip, warn, type BackendCheck } from './checks/check-result.js';
import { createSpeechServerProviders, isSpeechServer } from './create-speech-servers.js';
import { checkOpenAiAsr, checkOpenAiTts } from './openai-speech/checks.js';
import type { SpeechRecognizer, SpeechSynthesizer } from './types.js';
import { checkWyoming } from './wyoming/checks.js';

const ROUND_TRIP_WORD = 'Hello.';
const CHECK = 'TTS -> ASR round trip';

export async function checkSpeechServers(config: Config, deep: boolean): Promise<BackendCheck[]> {
  const rows: BackendCheck[] = [];
  if (config.ASR_PROVIDER === 'openai') rows.push(...(await checkOpenAiAsr(config)));
  if (config.ASR_PROVIDER === 'wyoming') rows.push(...(await checkWyoming(config, 'asr')));
  if (config.TTS_PROVIDER === 'openai') rows.push(...(await checkOpenAiTts(config)));
  if (config.TTS_PROVIDER === 'wyoming') rows.push(...(await checkWyoming(config, 'tts')));
  if (!deep) return rows;
  if (rows.some((r) => r.status === 'fail')) rows.push(skip('speech', CHECK, 'not tried: fix the failures above first'));
  else rows.push(await roundTrip(config));
  return rows;
}

async function roundTrip(config: Config): Promise<BackendCheck> {
  if (!isSpeechServer(config.TTS_PROVIDER)) return skip('speech', CHECK, 'needs TTS_PROVIDER=openai or wyoming to make the audio');
  let providers: ReturnType<typeof createSpeechServerProviders>;
  try {
    providers = createSpeechServerProviders(config);
  } catch (error) {
    return fail('speech', CHECK, error instanceof Error ? error.message : String(error), 'fix the settings named');
  }
  const rateHz = providers.asr?.sampleRateHz ?? 16000;
  const spoken = await synthesize(providers.tts!, config, rateHz);
  if (spoken instanceof Error) return fail('speech', CHECK, spoken.message, 'see the TTS lines above');
  const { parts, firstAudioMs } = spoken;
  const audioMs = Math.round((parts.reduce((n, p) => n + p.length, 0) * 1000) / rateHz);
  if (audioMs === 0) return fail('speech', CHECK, `"${ROUND_TRIP_WORD}" gave no audio`, 'check TTS_MODEL and TTS_VOICE');
  if (!providers.asr) return ok('speech', CHECK, `"${ROUND_TRIP_WORD}" gave ${audioMs} ms of audio, the first after ${firstAudioMs} ms (ASR is not a speech server: not recognized back)`);
  const heard = await recognize(providers.asr, config, parts, rateHz);
  if (heard instanceof Error) return fail('speech', CHECK, heard.message, 'see the ASR lines above');
  const detail = `"${ROUND_TRIP_WORD}" -> ${audioMs} ms of audio (first after ${firstAudioMs} ms) -> heard "${heard}"`;
  if (!heard) return fail('speech', CHECK, detail, 'the recognizer heard nothing in the synthesized word: check ASR_MODEL, ASR_LANGUAGE, and TTS_OPENAI_SAMPLE_RATE (audio at the wrong rate is unintelligible)');
  if (!/\bhello\b/i.test(heard)) return warn('speech', CHECK, detail, 'the words came back different: check that ASR_LANGUAGE matches the voice, and TTS_OPENAI_SAMPLE_RATE');
  return ok('speech', CHECK, detail);
}

async function synthesize(tts: SpeechSynthesizer, config: Config, rateHz: number): Promise<{ parts: Int16Array[]; firstAudioMs: number } | Error> {
  const started = performance.now();
  const parts: Int16Array[] = [];
  let firstAudioMs = 0;
  try {
    const signal = AbortSignal.timeout(config.TTS_TIMEOUT_MS * 2);
    for await (const chunk of tts.stream(ROUND_TRIP_WORD, { voice: config.TTS_VOICE, language: config.ASR_LANGUAGE, sampleRateHz: rateHz }, signal)) {
      if (parts.length === 0) firstAudioMs = Math.round(performance.now() - started);
      parts.push(chunk.pcm);
    }
    return { parts, firstAudioMs };
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The word with silence around it, marked as one utterance as the session's VAD would. */
async function recognize(asr: SpeechRecognizer, config: Config, parts: Int16Array[], rateHz: number): Promise<string | Error> {
  const silence = (ms: number) => new Int16Array(Math.round((rateHz * ms) / 1000));
  const limitMs = config.ASR_TIMEOUT_MS * 2;
  const signal = AbortSignal.timeout(limitMs);
  const stream = asr.stream({ language: config.ASR_LANGUAGE, sampleRateHz: rateHz }, signal);
  const finals: string[] = [];
  const done = (async () => {
    for await (const result of stream) if (result.kind === 'final') finals.push(result.text);
  })();
  stream.write(silence(300));
  stream.speech?.({ type: 'start', msAgo: 0 });
  for (const part of parts) stream.write(part);
  stream.write(silence(300));
  stream.speech?.({ type: 'end', msAgo: 300 });
  stream.end();
  try {
    await done;
    if (signal.aborted && finals.length === 0) return new Error(`no transcript within ${limitMs} ms (twice ASR_TIMEOUT_MS)`);
    return finals.join(' ');
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

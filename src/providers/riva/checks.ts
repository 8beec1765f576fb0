/**
 * Checks of the configured Riva: health, a streaming model for the language, the voices, and
 * (deep) one word through TTS and back through ASR.
 */
import { status } from '@grpc/grpc-js';
import type { Config } from '../../config/schema.js';
import { RivaRecognizer } from './asr.js';
import { fail, ok, skip, warn, type BackendCheck } from '../checks/check-result.js';
import { rivaAsrSettings, rivaChannels, rivaTtsSettings } from './create.js';
import { RivaSynthesizer } from './tts.js';
import { speaksLanguage } from '../voices.js';
import type { RivaChannel, RivaService } from './channel.js';
import { rivaAsrModels, rivaHealth, rivaVoices } from './discovery.js';
import { hasGrpcStatus, rivaFailure } from './errors.js';

const ROUND_TRIP_WORD = 'Hello.';

export async function checkRiva(config: Config, deep: boolean): Promise<BackendCheck[]> {
  let channels: { asr: RivaChannel; tts: RivaChannel };
  try {
    channels = rivaChannels(config);
  } catch (error) {
    return [fail('riva', 'connection settings', error instanceof Error ? error.message : String(error), 'fix the RIVA_* file settings')];
  }
  const wantAsr = config.ASR_PROVIDER === 'riva';
  const wantTts = config.TTS_PROVIDER === 'riva';
  const rows: BackendCheck[] = [];
  if (config.RIVA_API_KEY && !channels.asr.tls) {
    rows.push(warn('riva', 'credentials', `RIVA_API_KEY goes to ${channels.asr.target} unencrypted`, 'set RIVA_USE_TLS=true (NVIDIA-hosted endpoints need it), unless the network path is encrypted otherwise'));
  }
  try {
    const reachable = new Map<RivaChannel, boolean>();
    for (const [service, channel] of [['asr', channels.asr], ['tts', channels.tts]] as const) {
      if ((service === 'asr' ? !wantAsr : !wantTts) || reachable.has(channel)) continue;
      const row = await health(config, channel, service);
      reachable.set(channel, row.status !== 'fail');
      rows.push(row);
    }
    if (wantAsr) rows.push(reachable.get(channels.asr) ? await asrModels(config, channels.asr) : skip('riva', 'ASR models', 'not checked: Riva is not reachable'));
    if (wantTts) rows.push(reachable.get(channels.tts) ? await ttsVoices(config, channels.tts) : skip('riva', 'TTS voices', 'not checked: Riva is not reachable'));
    if (deep && rows.every((r) => r.status !== 'fail')) rows.push(await roundTrip(config, channels, wantAsr, wantTts));
    else if (deep) rows.push(skip('riva', 'TTS -> ASR round trip', 'not tried: fix the failures above first'));
  } finally {
    channels.asr.close();
    channels.tts.close();
  }
  return rows;
}

async function health(config: Config, channel: RivaChannel, service: RivaService): Promise<BackendCheck> {
  const check = `health (${channel.settings.uri})`;
  try {
    const serving = await rivaHealth(channel, service, config.RIVA_TIMEOUT_MS);
    if (serving === 'SERVING') return ok('riva', check, `SERVING at ${channel.target}`);
    return fail('riva', check, `Riva at ${channel.target} reports ${serving}`, 'Riva is up but not ready: it may still be loading its models (this takes minutes); see its log');
  } catch (error) {
    // NVIDIA-hosted functions serve only the speech services; the calls below still tell.
    if (hasGrpcStatus(error) && error.code === status.UNIMPLEMENTED) return skip('riva', check, `${channel.target} does not serve grpc.health.v1 (NVIDIA-hosted functions do not)`);
    const { detail, fix } = rivaFailure(service, 'health check', channel, error, 'RIVA_TIMEOUT_MS');
    return fail('riva', check, detail, fix);
  }
}

async function asrModels(config: Config, channel: RivaChannel): Promise<BackendCheck> {
  try {
    const models = await rivaAsrModels(channel, config.RIVA_TIMEOUT_MS);
    const language = config.ASR_LANGUAGE.toLowerCase();
    const usable = models.filter(
      (m) => m.streaming && m.languages.some((l) => l.toLowerCase() === language || l === 'multi') && (!config.RIVA_ASR_MODEL || m.name === config.RIVA_ASR_MODEL),
    );
    if (usable.length > 0) return ok('riva', 'ASR models', `${usable.map((m) => m.name).join(', ')} streams ${config.ASR_LANGUAGE}`);
    const deployed = models.map((m) => `${m.name} (${m.languages.join('/') || '?'}, ${m.streaming ? 'streaming' : 'offline'})`).join(', ') || 'none';
    const wanted = `streaming model for ASR_LANGUAGE=${config.ASR_LANGUAGE}${config.RIVA_ASR_MODEL ? ` named RIVA_ASR_MODEL=${config.RIVA_ASR_MODEL}` : ''}`;
    return fail('riva', 'ASR models', `no ${wanted}; deployed: ${deployed}`, 'deploy a streaming (online) model for the language, or set ASR_LANGUAGE and RIVA_ASR_MODEL to a deployed one');
  } catch (error) {
    const { detail, fix } = rivaFailure('asr', 'model listing', channel, error, 'RIVA_TIMEOUT_MS');
    return fail('riva', 'ASR models', detail, fix);
  }
}

async function ttsVoices(config: Config, channel: RivaChannel): Promise<BackendCheck> {
  try {
    const voices = await rivaVoices(channel, config.RIVA_TIMEOUT_MS);
    const names = (list: typeof voices) => list.map((v) => v.name).join(', ') || 'none';
    if (config.TTS_VOICE) {
      const voice = voices.find((v) => v.name === config.TTS_VOICE);
      if (voice) return ok('riva', 'TTS voices', `TTS_VOICE=${config.TTS_VOICE} is deployed (${voice.languages.join(', ')})`);
      return fail('riva', 'TTS voices', `TTS_VOICE=${config.TTS_VOICE} is not deployed; deployed: ${names(voices)}`, 'set TTS_VOICE to a deployed voice, or leave it empty for the language default');
    }
    const forLanguage = voices.filter((v) => speaksLanguage(v, config.ASR_LANGUAGE));
    if (forLanguage.length > 0) return ok('riva', 'TTS voices', `${forLanguage.length} for ${config.ASR_LANGUAGE}: ${names(forLanguage)}`);
    return fail('riva', 'TTS voices', `no voice speaks ${config.ASR_LANGUAGE}; deployed: ${names(voices)}`, 'deploy a voice for the language, or set TTS_VOICE to a deployed one');
  } catch (error) {
    const { detail, fix } = rivaFailure('tts', 'voice listing', channel, error, 'RIVA_TIMEOUT_MS');
    return fail('riva', 'TTS voices', detail, fix);
  }
}

/** One word synthesized, then recognized: both directions of audio work end to end. */
async function roundTrip(config: Config, channels: { asr: RivaChannel; tts: RivaChannel }, wantAsr: boolean, wantTts: boolean): Promise<BackendCheck> {
  const check = 'TTS -> ASR round trip';
  if (!wantTts) return skip('riva', check, 'needs TTS_PROVIDER=riva to make the audio');
  const rateHz = config.RIVA_ASR_SAMPLE_RATE;
  const tts = new RivaSynthesizer(channels.tts, rivaTtsSettings(config));
  const started = performance.now();
  const parts: Int16Array[] = [];
  let firstAudioMs: number | undefined;
  try {
    for await (const chunk of tts.stream(ROUND_TRIP_WORD, { voice: config.TTS_VOICE, language: config.ASR_LANGUAGE, sampleRateHz: rateHz }, AbortSignal.timeout(config.RIVA_TTS_TIMEOUT_MS))) {
      firstAudioMs ??= Math.round(performance.now() - started);
      parts.push(chunk.pcm);
    }
  } catch (error) {
    return fail('riva', check, error instanceof Error ? error.message : String(error), 'see the TTS voices line above');
  }
  const samples = parts.reduce((n, p) => n + p.length, 0);
  const audioMs = Math.round((samples * 1000) / rateHz);
  if (samples === 0) return fail('riva', check, `"${ROUND_TRIP_WORD}" gave no audio`, 'check the TTS model in the Riva log');
  if (!wantAsr) return ok('riva', check, `"${ROUND_TRIP_WORD}" gave ${audioMs} ms of audio, the first after ${firstAudioMs} ms (ASR is not Riva: not recognized back)`);
  const heard = await recognize(config, channels.asr, [silence(rateHz, 300), ...parts, silence(rateHz, 1500)], rateHz);
  if (heard instanceof Error) return fail('riva', check, heard.message, 'see the ASR models line above');
  const detail = `"${ROUND_TRIP_WORD}" -> ${audioMs} ms of audio (first after ${firstAudioMs} ms) -> heard "${heard}"`;
  if (!heard) return fail('riva', check, detail, 'Riva recognized nothing in its own speech: check the ASR model, the language and the endpointing settings');
  if (!/\bhello\b/i.test(heard)) return warn('riva', check, detail, 'the words came back different: check that ASR_LANGUAGE matches the voice and the ASR model');
  return ok('riva', check, detail);
}

async function recognize(config: Config, channel: RivaChannel, audio: Int16Array[], rateHz: number): Promise<string | Error> {
  const asr = new RivaRecognizer(channel, { ...rivaAsrSettings(config), reconnectRetries: 0 });
  const audioMs = audio.reduce((n, p) => n + p.length, 0) / (rateHz / 1000);
  const stream = asr.stream({ language: config.ASR_LANGUAGE, sampleRateHz: rateHz }, AbortSignal.timeout(config.RIVA_TIMEOUT_MS + audioMs));
  const finals: string[] = [];
  const done = (async () => {
    for await (const result of stream) if (result.kind === 'final') finals.push(result.text);
  })();
  for (const part of audio) stream.write(part);
  stream.end();
  try {
    await done;
    return finals.join(' ');
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function silence(rateHz: number, ms: number): Int16Array {
  return new Int16Array(Math.round((rateHz * ms) / 1000));
}

/**
 * What a Riva server offers: its health (grpc.health.v1), its recognition models and its voices
 * (GetRiva*Config). Used to list voices, to warn at start and by `voice-gateway doctor`.
 */
import { create } from '@bufbuild/protobuf';
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus } from '../../gen/grpc/health/v1/health_pb.js';
import { RivaSpeechRecognition, RivaSpeechRecognitionConfigRequestSchema, type RivaSpeechRecognitionConfigResponse } from '../../gen/riva/proto/riva_asr_pb.js';
import { RivaSpeechSynthesis, RivaSynthesisConfigRequestSchema, type RivaSynthesisConfigResponse } from '../../gen/riva/proto/riva_tts_pb.js';
import type { VoiceInfo } from '../types.js';
import type { RivaChannel, RivaService } from './channel.js';

export interface RivaAsrModel {
  name: string;
  /** BCP-47, e.g. "en-US" ("multi" for multilingual models). */
  languages: string[];
  /** "online" models stream; "offline" ones only do Recognize. */
  streaming: boolean;
}

/** SERVING, NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN; throws the call's error when there is no answer. */
export async function rivaHealth(channel: RivaChannel, service: RivaService, timeoutMs: number): Promise<string> {
  const response = await channel.unary(Health.method.check, create(HealthCheckRequestSchema, { service: '' }), { service, timeoutMs });
  return HealthCheckResponse_ServingStatus[response.status] ?? `status ${response.status}`;
}

export async function rivaAsrModels(channel: RivaChannel, timeoutMs: number): Promise<RivaAsrModel[]> {
  const response = await channel.unary(RivaSpeechRecognition.method.getRivaSpeechRecognitionConfig, create(RivaSpeechRecognitionConfigRequestSchema), {
    service: 'asr',
    timeoutMs,
  });
  return asrModelsOf(response);
}

export async function rivaVoices(channel: RivaChannel, timeoutMs: number, signal?: AbortSignal): Promise<VoiceInfo[]> {
  const response = await channel.unary(RivaSpeechSynthesis.method.getRivaSynthesisConfig, create(RivaSynthesisConfigRequestSchema), {
    service: 'tts',
    timeoutMs,
    signal,
  });
  return voicesOf(response);
}

export function asrModelsOf(response: RivaSpeechRecognitionConfigResponse): RivaAsrModel[] {
  return response.modelConfig.map((config) => ({
    name: config.modelName,
    languages: listOf(config.parameters.language_code),
    streaming: (config.parameters.type ?? 'online') === 'online',
  }));
}

/**
 * A voice is `voice_name.subvoice` for each entry of "subvoices" ("Female-1:0,Male-1:1"), or
 * `voice_name` alone for a model without subvoices. Several models may offer the same voice.
 */
export function voicesOf(response: RivaSynthesisConfigResponse): VoiceInfo[] {
  const voices = new Map<string, VoiceInfo>();
  for (const config of response.modelConfig) {
    const base = config.parameters.voice_name || config.modelName;
    const languages = listOf(config.parameters.language_code);
    const subvoices = listOf(config.parameters.subvoices).map((entry) => entry.split(':')[0]!.trim()).filter(Boolean);
    for (const name of subvoices.length > 0 ? subvoices.map((sub) => `${base}.${sub}`) : [base]) {
      const known = voices.get(name);
      if (known) known.languages = [...new Set([...known.languages, ...languages])];
      else voices.set(name, { name, languages });
    }
  }
  return [...voices.values()];
}

/** "a, b,c" as ["a", "b", "c"]. */
function listOf(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Riva's gRPC failures as ProviderErrors that say what to change. */
import { status, type ServiceError } from '@grpc/grpc-js';
import { ProviderError } from '../types.js';
import type { RivaChannel, RivaService } from './channel.js';

/** A gRPC status: a ServiceError thrown by a call, or the StatusObject a stream ended with. */
type GrpcStatus = Pick<ServiceError, 'code' | 'details'>;

export function hasGrpcStatus(error: unknown): error is GrpcStatus {
  return typeof error === 'object' && error !== null && typeof (error as Partial<GrpcStatus>).code === 'number';
}

/**
 * Failures worth a new call: the server or the path to it went away (restart, idle close, load
 * balancer, deadline), not a request the server refused.
 */
export function isRetryable(code: status, details = ''): boolean {
  if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED || code === status.ABORTED) return true;
  return code === status.INTERNAL && /RST_STREAM|GOAWAY|stream removed/i.test(details);
}

/**
 * @param action what was being done, e.g. "streaming recognition"
 * @param deadlineSetting the setting that bounds this call, named when it ran out
 */
export function rivaError(service: RivaService, action: string, channel: RivaChannel, error: unknown, deadlineSetting: string): ProviderError {
  const { detail, fix } = rivaFailure(service, action, channel, error, deadlineSetting);
  const retryable = hasGrpcStatus(error) && isRetryable(error.code, error.details);
  return new ProviderError(service, fix ? `${detail}: ${fix}` : detail, { retryable });
}

/** What failed, and what to change (empty when there is nothing obvious to say). */
export function rivaFailure(service: RivaService, action: string, channel: RivaChannel, error: unknown, deadlineSetting: string): { detail: string; fix: string } {
  if (!hasGrpcStatus(error)) {
    return { detail: `Riva ${action} at ${channel.target} failed: ${error instanceof Error ? error.message : String(error)}`, fix: '' };
  }
  const name = status[error.code] ?? String(error.code);
  const details = error.details || (error instanceof Error ? error.message : '');
  return { detail: `Riva ${action} at ${channel.target} failed (${name}: ${details})`, fix: hint(service, channel, error.code, details, deadlineSetting) };
}

function hint(service: RivaService, channel: RivaChannel, code: status, details: string, deadlineSetting: string): string {
  const functionIdSetting = service === 'asr' ? 'RIVA_FUNCTION_ID_ASR' : 'RIVA_FUNCTION_ID_TTS';
  switch (code) {
    case status.UNAVAILABLE:
      if (/ssl|tls|handshake|certificate|wrong version/i.test(details)) return 'check that RIVA_USE_TLS, RIVA_CA_FILE and the client certificate match the server';
      return 'check RIVA_URI and that the server is running (Riva takes minutes to load its models)';
    case status.DEADLINE_EXCEEDED:
      return `no answer within ${deadlineSetting}; the server may be overloaded`;
    case status.UNAUTHENTICATED:
    case status.PERMISSION_DENIED:
      return channel.isHosted(service) ? `check RIVA_API_KEY and ${functionIdSetting}` : 'check RIVA_API_KEY';
    case status.NOT_FOUND:
      return channel.isHosted(service) ? `check ${functionIdSetting}` : '';
    case status.INVALID_ARGUMENT:
      return service === 'asr'
        ? 'check ASR_LANGUAGE and RIVA_ASR_MODEL against the deployed models (`voice-gateway doctor` lists them)'
        : 'check the voice (TTS_VOICE) and language against the deployed voices (`voice-gateway doctor` lists them)';
    case status.UNIMPLEMENTED:
      return `the server does not serve Riva ${service === 'asr' ? 'speech recognition' : 'speech synthesis'}; check RIVA_URI${service === 'tts' ? ' and RIVA_TTS_URI' : ''}`;
    case status.RESOURCE_EXHAUSTED:
      return 'the server is at capacity, or a message passed RIVA_MAX_MESSAGE_BYTES';
    default:
      return '';
  }
}

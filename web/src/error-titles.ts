/** What each voice.v1 error code means to a person, as the start of the message the page shows. */
import { ErrorCode } from '../../src/gen/voice/v1/voice_pb.js';

export const ERROR_TITLES: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.INVALID_ARGUMENT]: 'A setting was not accepted',
  [ErrorCode.UNAUTHENTICATED]: 'The gateway needs a valid access key (Settings)',
  [ErrorCode.RESOURCE_EXHAUSTED]: 'A limit was reached',
  [ErrorCode.FAILED_PRECONDITION]: 'The gateway refused a message',
  [ErrorCode.ASR_UNAVAILABLE]: 'Speech recognition is unavailable',
  [ErrorCode.LLM_UNAVAILABLE]: 'The language model is unavailable',
  [ErrorCode.TTS_UNAVAILABLE]: 'Speech synthesis is unavailable',
  [ErrorCode.INTERNAL]: 'The gateway had an internal error',
  [ErrorCode.UNAVAILABLE]: 'The gateway is restarting',
};

/**
 * voice.v1 messages for the fuzzers of both voice.v1 transports (gRPC and WebSocket): requests
 * with random (often wrong) fields in any order, their bytes mutated or cut, and random bytes.
 * The probe is a ConverseRequest with no event, which an open session answers with an error.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { FUZZ_LIMITS, fuzzAudioBytes, fuzzText } from './fuzz.js';

const uint32 = fc.oneof(fc.constantFrom(0, 1, 8000, 16000, 24000, 48000, 96000, 4294967295), fc.integer({ min: 0, max: 4294967295 }));
const enumValue = fc.integer({ min: -1, max: 5 });

const format = fc.record({ encoding: enumValue, sampleRateHz: uint32 });
const settings = fc.record(
  {
    inputFormat: format,
    outputFormat: format,
    language: fuzzText(),
    voice: fuzzText(),
    instructions: fuzzText(),
    turn: fc.record({ endOfTurnSource: enumValue, endOfTurnSilenceMs: uint32, bargeInMinSpeechMs: uint32, bargeInDisabled: fc.boolean(), endOfTurnMaxSilenceMs: uint32, interruptionMode: enumValue, bargeInMinWords: uint32, falseInterruptionTimeoutMs: uint32 }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

/** A request with one event set, as a client library would build it. */
export const voiceRequest: fc.Arbitrary<pb.ConverseRequest> = fc
  .oneof(
    { weight: 3, arbitrary: fc.record({ case: fc.constant('start' as const), value: fc.record({ settings: fc.option(settings, { nil: undefined }), metadata: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 20 }) }) }) },
    { weight: 8, arbitrary: fc.record({ case: fc.constant('audio' as const), value: fc.record({ data: fuzzAudioBytes() }) }) },
    { weight: 2, arbitrary: fc.record({ case: fc.constant('text' as const), value: fc.record({ text: fuzzText() }) }) },
    { weight: 1, arbitrary: fc.record({ case: fc.constantFrom('commit' as const, 'interrupt' as const), value: fc.constant({}) }) },
    { weight: 1, arbitrary: fc.record({ case: fc.constant('playback' as const), value: fc.record({ responseId: fuzzText(), playedMs: uint32 }) }) },
    { weight: 2, arbitrary: fc.record({ case: fc.constant('update' as const), value: fc.record({ settings: fc.option(settings, { nil: undefined }) }) }) },
  )
  .map((event) => create(pb.ConverseRequestSchema, { event }));

/** Bytes of a request: encoded as is, mutated, cut, random, or past MAX_MESSAGE_BYTES. */
export const voiceRequestBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 20, arbitrary: voiceRequest.map((r) => toBinary(pb.ConverseRequestSchema, r)) },
  {
    weight: 4,
    arbitrary: fc.tuple(voiceRequest, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })).map(([r, flips]) => {
      const bytes = toBinary(pb.ConverseRequestSchema, r).slice();
      for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
      return bytes;
    }),
  },
  { weight: 2, arbitrary: fc.tuple(voiceRequest, fc.nat()).map(([r, cut]) => { const bytes = toBinary(pb.ConverseRequestSchema, r); return bytes.subarray(0, cut % (bytes.length + 1)); }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constant(toBinary(pb.ConverseRequestSchema, create(pb.ConverseRequestSchema, { event: { case: 'audio', value: { data: new Uint8Array(FUZZ_LIMITS.MAX_MESSAGE_BYTES + 100) } } }))) },
);

/**
 * The probe, sent after a case's requests: a valid start (which starts a session that has not
 * started, or is refused as a second start) and then an update whose voice is refused with a
 * message naming it. Both go through the session's queue in order, so the answer comes after every
 * request of the case was handled.
 */
export const PROBE = [
  toBinary(pb.ConverseRequestSchema, create(pb.ConverseRequestSchema, { event: { case: 'start', value: {} } })),
  toBinary(pb.ConverseRequestSchema, create(pb.ConverseRequestSchema, { event: { case: 'update', value: { settings: { voice: '\u0001probe' } } } })),
];

export function isProbeAnswer(response: pb.ConverseResponse): boolean {
  return response.event.case === 'error' && response.event.value.message.includes('probe');
}

/**
 * The VoiceGateway service for grpc-js, built on the protoc-gen-es messages, so that server,
 * clients and the browser share one generated code base.
 */
import type * as grpc from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ConverseRequestSchema, ConverseResponseSchema, type ConverseRequest, type ConverseResponse } from '../../gen/voice/v1/voice_pb.js';

export const VOICE_SERVICE = 'voice.v1.VoiceGateway';

/** A request that did not parse: kept as a value so the session can answer it with an `error`. */
export type Decoded = { ok: true; request: ConverseRequest } | { ok: false; reason: string };

export const converseDefinition: grpc.ServiceDefinition = {
  Converse: {
    path: `/${VOICE_SERVICE}/Converse`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (request: ConverseRequest) => Buffer.from(toBinary(ConverseRequestSchema, request)),
    requestDeserialize: (bytes: Buffer): Decoded => {
      try {
        return { ok: true, request: fromBinary(ConverseRequestSchema, bytes) };
      } catch (error) {
        return { ok: false, reason: error instanceof Error ? error.message : String(error) };
      }
    },
    responseSerialize: (response: ConverseResponse) => Buffer.from(toBinary(ConverseResponseSchema, response)),
    responseDeserialize: (bytes: Buffer) => fromBinary(ConverseResponseSchema, bytes),
    originalName: 'converse',
  },
};



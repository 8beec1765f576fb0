/**
 * The VoiceGateway service for grpc-js, built on the protoc-gen-es messages, so that server,
 * clients and the browser share one generated code base.
 */
import type * as grpc from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ConverseRequestSchema, ConverseResponseSchema, ListVoicesRequestSchema, ListVoicesResponseSchema, type ConverseRequest, type ConverseResponse } from '../../gen/voice/v1/voice_pb.js';
import { deserializer, serializer } from '../../lib/grpc-service.js';
import { decodeRequest, type Decoded } from '../voice-v1/requests.js';

export const VOICE_SERVICE = 'voice.v1.VoiceGateway';

export const converseDefinition: grpc.ServiceDefinition = {
  Converse: {
    path: `/${VOICE_SERVICE}/Converse`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (request: ConverseRequest) => Buffer.from(toBinary(ConverseRequestSchema, request)),
    // A request that does not parse becomes a value the session answers with an `error`.
    requestDeserialize: (bytes: Buffer): Decoded => decodeRequest(bytes),
    responseSerialize: (response: ConverseResponse) => Buffer.from(toBinary(ConverseResponseSchema, response)),
    responseDeserialize: (bytes: Buffer) => fromBinary(ConverseResponseSchema, bytes),
    originalName: 'converse',
  },
  ListVoices: {
    path: `/${VOICE_SERVICE}/ListVoices`,
    requestStream: false,
    responseStream: false,
    requestSerialize: serializer(ListVoicesRequestSchema),
    requestDeserialize: deserializer(ListVoicesRequestSchema),
    responseSerialize: serializer(ListVoicesResponseSchema),
    responseDeserialize: deserializer(ListVoicesResponseSchema),
    originalName: 'listVoices',
  },
};



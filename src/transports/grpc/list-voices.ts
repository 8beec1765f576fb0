/** voice.v1.VoiceGateway/ListVoices over gRPC: the credential as for Converse, refusals as statuses. */
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { ListVoicesResponseSchema, type ListVoicesRequest, type ListVoicesResponse } from '../../gen/voice/v1/voice_pb.js';
import { bearerToken } from '../session-factory.js';
import type { VoiceLister, VoiceListing } from '../voice-v1/voice-list.js';

const STATUS: Record<Exclude<VoiceListing, { voices: unknown }>['code'], grpc.status> = {
  unauthenticated: grpc.status.UNAUTHENTICATED,
  unimplemented: grpc.status.UNIMPLEMENTED,
  unavailable: grpc.status.UNAVAILABLE,
};

export function listVoicesHandler(lister: VoiceLister | undefined) {
  return (call: grpc.ServerUnaryCall<ListVoicesRequest, ListVoicesResponse>, callback: grpc.sendUnaryData<ListVoicesResponse>): void => {
    if (!lister) return callback({ code: grpc.status.UNIMPLEMENTED, details: 'this gateway does not list voices' });
    const value = (key: string) => {
      const found = call.metadata.get(key)[0];
      return typeof found === 'string' ? found : undefined;
    };
    const credential = bearerToken(value('authorization')) ?? value('x-api-key');
    lister(call.request.language.trim(), credential).then(
      (listing) => {
        if ('refused' in listing) return callback({ code: STATUS[listing.code], details: listing.refused });
        callback(null, create(ListVoicesResponseSchema, { voices: listing.voices.map((v) => ({ name: v.name, languages: v.languages })) }));
      },
      () => callback({ code: grpc.status.INTERNAL, details: 'internal error while listing voices' }),
    );
  };
}

/** Raw gRPC clients for tests that need more control than the `ask` client gives. */
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { deserializer, methodPath, serializer } from '../../src/lib/grpc-service.js';
import { service as healthService } from 'grpc-health-check';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';

export type RequestEvent = MessageInitShape<typeof pb.ConverseRequestSchema>['event'];

export interface ConverseCall {
  client: grpc.Client;
  call: grpc.ClientDuplexStream<pb.ConverseRequest, pb.ConverseResponse>;
  /** Every event received, in order. */
  events: pb.ConverseResponse[];
  /** The call's final status (errors included). */
  status: Promise<grpc.StatusObject>;
  send: (event: RequestEvent) => void;
  close: () => void;
}

/** Opens VoiceGateway/Converse; nothing is sent yet. */
export function openConverse(
  address: string,
  { credentials = grpc.credentials.createInsecure(), metadata = {} }: { credentials?: grpc.ChannelCredentials; metadata?: Record<string, string> } = {},
): ConverseCall {
  const client = new grpc.Client(address, credentials);
  const md = new grpc.Metadata();
  for (const [key, value] of Object.entries(metadata)) md.set(key, value);
  const call = client.makeBidiStreamRequest(
    '/voice.v1.VoiceGateway/Converse',
    (r: pb.ConverseRequest) => Buffer.from(toBinary(pb.ConverseRequestSchema, r)),
    (b: Buffer) => fromBinary(pb.ConverseResponseSchema, b),
    md,
  );
  const events: pb.ConverseResponse[] = [];
  call.on('data', (e: pb.ConverseResponse) => events.push(e));
  call.on('error', () => undefined); // the status below says it
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  return {
    client,
    call,
    events,
    status,
    send: (event) => call.write(create(pb.ConverseRequestSchema, { event })),
    close: () => {
      call.end();
      client.close();
    },
  };
}

/** grpc.health.v1 Check of `service` ('' is the whole server); '' when the call fails. */
export function healthStatus(address: string, service: string): Promise<string> {
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health') as unknown as new (a: string, c: grpc.ChannelCredentials) => grpc.Client & {
    check(r: { service: string }, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void): void;
  };
  const client = new Health(address, grpc.credentials.createInsecure());
  return new Promise((resolve) =>
    client.check({ service }, (error, response) => {
      client.close();
      resolve(error ? '' : response!.status);
    }),
  );
}

/** voice.v1 ListVoices for `language` ('' for all). */
export async function listVoices(address: string, language: string): Promise<pb.ListVoicesResponse> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const method = pb.VoiceGateway.method.listVoices;
  try {
    return await new Promise((resolve, reject) =>
      client.makeUnaryRequest(methodPath(method), serializer(method.input), deserializer(method.output), create(pb.ListVoicesRequestSchema, { language }), (error, response) =>
        error ? reject(error) : resolve(response!),
      ),
    );
  } finally {
    client.close();
  }
}

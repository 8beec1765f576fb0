/**
 * grpc-js over the protoc-gen-es generated code: one service definition from a generated service
 * descriptor, so that clients (Riva) and servers (the gateway, test doubles) use the same
 * generated messages and put the same bytes on the wire as any other gRPC stack.
 */
import type * as grpc from '@grpc/grpc-js';
import { fromBinary, toBinary, type DescMessage, type DescMethod, type DescService, type Message, type MessageShape } from '@bufbuild/protobuf';

/** A generated method with its kind and message types, e.g. `RivaSpeechSynthesis.method.synthesizeOnline`. */
export type Method<K extends DescMethod['methodKind'], I extends DescMessage, O extends DescMessage> = DescMethod & {
  methodKind: K;
  input: I;
  output: O;
};

/** `/package.Service/Method`, as gRPC names it on the wire. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

export function serializer<M extends DescMessage>(schema: M): (message: MessageShape<M>) => Buffer {
  return (message) => Buffer.from(toBinary(schema, message));
}

export function deserializer<M extends DescMessage>(schema: M): (bytes: Buffer) => MessageShape<M> {
  return (bytes) => fromBinary(schema, bytes);
}

/** The grpc-js definition of a generated service; handlers may be keyed by name or local name. */
export function grpcServiceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<Message, Message>> = {};
  for (const method of service.methods) {
    definition[method.name] = {
      path: methodPath(method),
      requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.localName,
    };
  }
  return definition;
}

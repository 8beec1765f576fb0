/**
 * A server interceptor that keeps a status grpc-js sends on its own from being lost behind the
 * handler's next response.
 *
 * grpc-js (1.14) ends a call itself when a client message is over grpc.max_receive_message_length
 * (and on a bad encoding or a deadline): it calls end() on the HTTP/2 stream and sends the status
 * as trailers once the data already queued is out. It tells the handler nothing until then, and
 * its sendMessage does not check for that end. So when a response is still being written at that
 * moment (the client reads slower than the server writes), the handler's stream hands its next
 * response over as soon as that write completes, before Node has run the end; the write after end
 * breaks the HTTP/2 stream, the end never runs, and the client waits with no status.
 *
 * Node runs a pending end() right after the callback of the write that completes returns. Handing
 * the callback on a microtask later lets that end run first: the trailers go out, and a later
 * response only fails inside grpc-js, which then reports the call cancelled (the handler stops).
 * Only calls that stream both ways can meet this; the others pass through untouched.
 */
import * as grpc from '@grpc/grpc-js';

class StatusFirstCall extends grpc.ServerInterceptingCall {
  override sendMessage(message: unknown, callback: () => void): void {
    super.sendMessage(message, () => queueMicrotask(callback));
  }
}

export const statusFirst: grpc.ServerInterceptor = (method, call) =>
  method.requestStream && method.responseStream ? new StatusFirstCall(call) : new grpc.ServerInterceptingCall(call);

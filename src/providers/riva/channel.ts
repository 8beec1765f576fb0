/**
 * The connection to a Riva server (or speech NIM, or NVIDIA's hosted endpoints): one gRPC channel
 * that every session's ASR streams and TTS calls share, plain or TLS (own CA, client
 * certificate), with per-call metadata for NVIDIA-hosted functions (`function-id`,
 * `authorization: Bearer ...`). Every call gets a deadline.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import { ConfigError } from '../../config/load.js';
import { deserializer, methodPath, serializer, type Method } from '../../lib/grpc-service.js';

/** Which Riva service a call is for: hosted endpoints route by a function id per service. */
export type RivaService = 'asr' | 'tts';

export interface RivaConnectionSettings {
  /** host:port, e.g. "riva-api:50051" or "grpc.nvcf.nvidia.com:443". */
  uri: string;
  useTls: boolean;
  /** PEM files; empty strings mean none. Any of them implies TLS, as in NVIDIA's own clients. */
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** Sent as `authorization: Bearer <key>` on every call when set. */
  apiKey: string;
  /** Sent as `function-id` on the service's calls when set (NVIDIA-hosted endpoints). */
  functionIds: Record<RivaService, string>;
  /** Largest message sent or received; Riva's own clients use 64 MiB (offline TTS is large). */
  maxMessageBytes: number;
}

export interface UnaryCallOptions {
  service: RivaService;
  timeoutMs: number;
  signal?: AbortSignal;
}

export class RivaChannel {
  /** For messages: where the channel points and how. */
  readonly target: string;
  readonly tls: boolean;
  private readonly client: grpc.Client;

  constructor(readonly settings: RivaConnectionSettings) {
    this.tls = settings.useTls || Boolean(settings.caFile || settings.clientCertFile || settings.clientKeyFile);
    this.target = `${settings.uri} (${this.tls ? 'TLS' : 'plaintext'})`;
    this.client = new grpc.Client(settings.uri, this.tls ? tlsCredentials(settings) : grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': settings.maxMessageBytes,
      'grpc.max_send_message_length': settings.maxMessageBytes,
    });
  }

  /** True when calls for `service` carry a function id (an NVIDIA-hosted endpoint). */
  isHosted(service: RivaService): boolean {
    return this.settings.functionIds[service] !== '';
  }

  /** Per-call metadata; grpc-js wants the keys in lower case. */
  metadata(service: RivaService): grpc.Metadata {
    const metadata = new grpc.Metadata();
    const functionId = this.settings.functionIds[service];
    if (functionId) metadata.set('function-id', functionId);
    if (this.settings.apiKey) metadata.set('authorization', `Bearer ${this.settings.apiKey}`);
    return metadata;
  }

  unary<I extends DescMessage, O extends DescMessage>(method: Method<'unary', I, O>, request: MessageShape<I>, opts: UnaryCallOptions): Promise<MessageShape<O>> {
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        methodPath(method),
        serializer(method.input),
        deserializer(method.output),
        request,
        this.metadata(opts.service),
        { deadline: Date.now() + opts.timeoutMs },
        (error, response) => {
          opts.signal?.removeEventListener('abort', cancel);
          if (error) reject(error);
          else if (response) resolve(response);
          else reject(new Error(`${method.name} returned no message`));
        },
      );
      const cancel = () => call.cancel();
      opts.signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  /** A bidi stream; the deadline bounds the whole call. Cancel it with `call.cancel()`. */
  bidi<I extends DescMessage, O extends DescMessage>(
    method: Method<'bidi_streaming', I, O>,
    opts: { service: RivaService; deadlineMs: number },
  ): grpc.ClientDuplexStream<MessageShape<I>, MessageShape<O>> {
    return this.client.makeBidiStreamRequest(methodPath(method), serializer(method.input), deserializer(method.output), this.metadata(opts.service), {
      deadline: Date.now() + opts.deadlineMs,
    });
  }

  close(): void {
    this.client.close();
  }
}

function tlsCredentials(settings: RivaConnectionSettings): grpc.ChannelCredentials {
  if (Boolean(settings.clientCertFile) !== Boolean(settings.clientKeyFile)) {
    throw new ConfigError('RIVA_CLIENT_CERT_FILE and RIVA_CLIENT_KEY_FILE go together: set both for a client certificate, or neither');
  }
  const ca = settings.caFile ? readPem('RIVA_CA_FILE', settings.caFile) : null;
  const key = settings.clientKeyFile ? readPem('RIVA_CLIENT_KEY_FILE', settings.clientKeyFile) : null;
  const cert = settings.clientCertFile ? readPem('RIVA_CLIENT_CERT_FILE', settings.clientCertFile) : null;
  return grpc.credentials.createSsl(ca, key, cert);
}

function readPem(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(`${setting}=${JSON.stringify(path)} cannot be read (${why}): give the path of a PEM file`);
  }
}

/**
 * Idle sessions on each transport, for the memory test and the idle-session benchmark: each
 * connects, starts (Realtime starts by itself) and waits for its ready event, then stays silent.
 * The gateway's resident memory is read from /proc, as the kernel counts it.
 */
import { readFile } from 'node:fs/promises';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { WebSocket } from 'ws';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { within } from './within.js';

export type Transport = 'grpc' | 'websocket' | 'realtime';
export const TRANSPORTS: Transport[] = ['grpc', 'websocket', 'realtime'];

export interface IdleSession {
  close(): void;
}

/** Resident memory (bytes) of process `pid`, from /proc/<pid>/status (VmRSS). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

const READY_WAIT_MS = 30_000;

/**
 * One idle session on `transport`, resolved once it is ready. gRPC sessions share `client` (one
 * HTTP/2 connection, as a telephony bridge or SDK would multiplex them).
 */
export function openIdleSession(transport: Transport, ports: { grpc: number; http: number }, client?: grpc.Client): Promise<IdleSession> {
  if (transport === 'grpc') {
    const channel = client ?? new grpc.Client(`127.0.0.1:${ports.grpc}`, grpc.credentials.createInsecure());
    const call = channel.makeBidiStreamRequest(
      '/voice.v1.VoiceGateway/Converse',
      (r: pb.ConverseRequest) => Buffer.from(toBinary(pb.ConverseRequestSchema, r)),
      (b: Buffer) => fromBinary(pb.ConverseResponseSchema, b),
    );
    call.on('error', () => undefined);
    const ready = new Promise<IdleSession>((resolve, reject) => {
      call.on('data', (e: pb.ConverseResponse) => {
        if (e.event.case === 'ready') resolve({ close: () => call.end() });
      });
      call.on('status', (status: grpc.StatusObject) => reject(new Error(`the call ended: ${status.details}`)));
    });
    call.write(create(pb.ConverseRequestSchema, { event: { case: 'start', value: {} } }));
    return within(ready, READY_WAIT_MS, 'grpc: no ready event');
  }
  if (transport === 'websocket') {
    const ws = new WebSocket(`ws://127.0.0.1:${ports.http}/v1/voice`, ['voice.v1']);
    ws.on('error', () => undefined);
    const ready = new Promise<IdleSession>((resolve, reject) => {
      ws.on('open', () => ws.send(toBinary(pb.ConverseRequestSchema, create(pb.ConverseRequestSchema, { event: { case: 'start', value: {} } }))));
      ws.on('message', (data: Buffer) => {
        if (fromBinary(pb.ConverseResponseSchema, data).event.case === 'ready') resolve({ close: () => ws.close(1000) });
      });
      ws.on('close', (code: number, reason: Buffer) => reject(new Error(`closed ${code} ${reason.toString()}`)));
    });
    return within(ready, READY_WAIT_MS, 'websocket: no ready event');
  }
  const ws = new WebSocket(`ws://127.0.0.1:${ports.http}/v1/realtime?model=idle`);
  ws.on('error', () => undefined);
  const ready = new Promise<IdleSession>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'session.created') resolve({ close: () => ws.close(1000) });
    });
    ws.on('close', (code: number, reason: Buffer) => reject(new Error(`closed ${code} ${reason.toString()}`)));
  });
  return within(ready, READY_WAIT_MS, 'realtime: no session.created event');
}

/** Opens `count` idle sessions, `parallel` at a time. */
export async function openIdleSessions(transport: Transport, count: number, ports: { grpc: number; http: number }, parallel = 20): Promise<IdleSession[]> {
  const client = transport === 'grpc' ? new grpc.Client(`127.0.0.1:${ports.grpc}`, grpc.credentials.createInsecure()) : undefined;
  const sessions: IdleSession[] = [];
  for (let at = 0; at < count; at += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - at) }, () => openIdleSession(transport, ports, client));
    sessions.push(...(await Promise.all(batch)));
  }
  if (client) sessions.push({ close: () => client.close() });
  return sessions;
}

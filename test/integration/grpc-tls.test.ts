/** gRPC over TLS with a test CA, and a renewed certificate picked up without a restart. */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { makeTestCa, type TestCa } from '../support/test-ca.js';

let llm: ScriptedServer;
let gateway: GatewayProcess;
let first: TestCa;
let renewed: TestCa;
let served: { cert: string; key: string };

before(async () => {
  first = makeTestCa();
  renewed = makeTestCa();
  // The gateway reads copies, so the test can replace them like a certificate manager would.
  served = { cert: join(first.dir, 'served-cert.pem'), key: join(first.dir, 'served-key.pem') };
  copyFileSync(first.files.serverCert, served.cert);
  copyFileSync(first.files.serverKey, served.key);
  llm = await startScriptedOpenAiServer({ reply: 'Secure hello.' });
  gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], {
    LLM_BASE_URL: llm.baseUrl,
    TLS_CERT_FILE: served.cert,
    TLS_KEY_FILE: served.key,
    TLS_RELOAD_INTERVAL_MS: '1000',
  });
});

after(async () => {
  await gateway.stop();
  await llm.close();
  first.remove();
  renewed.remove();
});

/** A text turn over a new connection that trusts `ca`; resolves to the reply text or the error. */
async function textTurn(credentials: grpc.ChannelCredentials): Promise<string> {
  const client = new grpc.Client(`localhost:${gateway.grpcPort}`, credentials);
  const call = client.makeBidiStreamRequest(
    '/voice.v1.VoiceGateway/Converse',
    (r: pb.ConverseRequest) => Buffer.from(toBinary(pb.ConverseRequestSchema, r)),
    (b: Buffer) => fromBinary(pb.ConverseResponseSchema, b),
  );
  let text = '';
  const outcome = new Promise<string>((resolve) => {
    call.on('data', (e: pb.ConverseResponse) => {
      if (e.event.case === 'responseText') text += e.event.value.delta;
      if (e.event.case === 'responseDone') call.end();
    });
    call.on('error', (error: grpc.ServiceError) => resolve(`error: ${error.details}`));
    call.on('end', () => resolve(text));
  });
  call.write(create(pb.ConverseRequestSchema, { event: { case: 'start', value: {} } }));
  call.write(create(pb.ConverseRequestSchema, { event: { case: 'text', value: { text: 'hello over tls' } } }));
  const result = await outcome;
  client.close();
  return result;
}

void it('serves gRPC over TLS to a client that trusts the CA, and not in plain text', async () => {
  assert.equal(await textTurn(grpc.credentials.createSsl(first.read('ca'))), 'Secure hello.');
  assert.match(await textTurn(grpc.credentials.createInsecure()), /^error:/);
});

void it('a renewed certificate is served to new connections without a restart', async () => {
  copyFileSync(renewed.files.serverKey, served.key);
  copyFileSync(renewed.files.serverCert, served.cert);
  let reply = '';
  for (let i = 0; i < 40 && reply !== 'Secure hello.'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    reply = await textTurn(grpc.credentials.createSsl(renewed.read('ca')));
  }
  assert.equal(reply, 'Secure hello.', 'the renewed certificate (another CA) is now served');
  assert.match(await textTurn(grpc.credentials.createSsl(first.read('ca'))), /^error:/, 'the old one is gone');
});

/**
 * TLS on the HTTP port: TLS_CERT_FILE and TLS_KEY_FILE serve HTTPS (and WSS) with the same
 * routes; a half-set or unreadable pair stops the start with one line (exit code 2); a new
 * certificate can replace the served one without a restart.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { emptyRoutes, startHttpServer } from '../../src/transports/http/server.js';
import { makeTestCa, type TestCa } from '../support/test-ca.js';

const run = promisify(execFile);

/** `voice-gateway serve` from the sources, as the built CLI runs it. */
async function serve(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const script = "import('./src/cli/main.ts').then((m) => m.main(['serve']))";
  try {
    await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_PORT: '0', ...env },
      timeout: 60_000,
    });
    return { code: 0, stderr: '' };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

/** GET over HTTPS trusting `ca`: the status, the body and the certificate's CA name. */
function httpsGet(port: number, path: string, ca: string): Promise<{ status: number; body: string; issuer: string }> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path, ca, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        const socket = response.socket as import('node:tls').TLSSocket;
        resolve({ status: response.statusCode ?? 0, body, issuer: String(socket.getPeerCertificate().issuer?.CN ?? '') });
      });
    });
    request.on('error', reject);
  });
}

let ca: TestCa;
let other: TestCa;

before(() => {
  [ca, other] = [makeTestCa(), makeTestCa()];
});

after(() => {
  ca.remove();
  other.remove();
});

void describe('TLS settings', () => {
  void it('one of TLS_CERT_FILE and TLS_KEY_FILE without the other stops the start with one line', async () => {
    const { code, stderr } = await serve({ TLS_CERT_FILE: ca.files.serverCert });
    assert.equal(code, 2);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /TLS_CERT_FILE is set but TLS_KEY_FILE is not: set both/);
    const other = await serve({ TLS_KEY_FILE: ca.files.serverKey });
    assert.match(other.stderr, /TLS_KEY_FILE is set but TLS_CERT_FILE is not/);
  });

  void it('an unreadable file, or a key that is not the certificate\'s, stops the start with one line', async () => {
    const missing = await serve({ TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: ca.files.serverKey });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /TLS_CERT_FILE="\/nonexistent\/cert.pem" cannot be read \(ENOENT\)/);
    const mismatched = await serve({ TLS_CERT_FILE: ca.files.serverCert, TLS_KEY_FILE: other.files.serverKey });
    assert.equal(mismatched.code, 2);
    assert.match(mismatched.stderr, /are not a PEM certificate and its private key/);
    const notPem = join(ca.dir, 'not.pem');
    await writeFile(notPem, 'hello\n');
    const garbage = await serve({ TLS_CERT_FILE: notPem, TLS_KEY_FILE: notPem });
    assert.equal(garbage.code, 2);
    assert.equal(garbage.stderr.trim().split('\n').length, 1, garbage.stderr);
  });
});

void describe('the HTTP port over TLS', () => {
  void it('serves the same routes over HTTPS, and a new certificate replaces the old for new connections', async () => {
    const tls = { cert: await readFile(ca.files.serverCert), key: await readFile(ca.files.serverKey) };
    const http = await startHttpServer('127.0.0.1', 0, emptyRoutes(), tls);
    try {
      assert.equal(http.scheme, 'https');
      const first = await httpsGet(http.port, '/healthz', ca.read('ca').toString());
      assert.deepEqual([first.status, first.body], [200, 'ok\n']);
      await assert.rejects(httpsGet(http.port, '/healthz', other.read('ca').toString()), /self-signed|unable to verify|certificate/i, 'only the right CA is trusted');

      http.setTls({ cert: await readFile(other.files.serverCert), key: await readFile(other.files.serverKey) });
      const second = await httpsGet(http.port, '/healthz', other.read('ca').toString());
      assert.equal(second.status, 200);
      assert.notEqual(second.issuer, '', 'a certificate was presented');
      await assert.rejects(httpsGet(http.port, '/healthz', ca.read('ca').toString()), /self-signed|unable to verify|certificate/i, 'the old certificate is gone');
    } finally {
      await http.close();
    }
  });

  void it('plain HTTP stays plain and refuses setTls', async () => {
    const http = await startHttpServer('127.0.0.1', 0, emptyRoutes());
    try {
      assert.equal(http.scheme, 'http');
      assert.throws(() => http.setTls({ cert: Buffer.alloc(0), key: Buffer.alloc(0) }), /started without TLS/);
    } finally {
      await http.close();
    }
  });
});

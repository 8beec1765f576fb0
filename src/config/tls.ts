/**
 * The HTTP port's certificate: TLS_CERT_FILE and TLS_KEY_FILE, both or neither. Checked and read
 * at start, so a missing file, a file that is not PEM or a key that does not match the certificate
 * stops the start with one line instead of failing the first handshake.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from './load.js';

/** PEM certificate (chain) and private key. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/** The certificate and key to serve, or null for plain HTTP. Throws ConfigError. */
export function readTlsFiles(certFile: string, keyFile: string): TlsFiles | null {
  if (!certFile && !keyFile) return null;
  if (!certFile || !keyFile) {
    const [set, unset] = certFile ? ['TLS_CERT_FILE', 'TLS_KEY_FILE'] : ['TLS_KEY_FILE', 'TLS_CERT_FILE'];
    throw new ConfigError(`${set} is set but ${unset} is not: set both (PEM files) to serve HTTPS and WSS, or neither for plain HTTP`);
  }
  const files = { cert: read('TLS_CERT_FILE', certFile), key: read('TLS_KEY_FILE', keyFile) };
  try {
    createSecureContext(files);
  } catch (error) {
    throw new ConfigError(
      `TLS_CERT_FILE=${JSON.stringify(certFile)} and TLS_KEY_FILE=${JSON.stringify(keyFile)} are not a PEM certificate and its private key: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return files;
}

function read(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const why = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new ConfigError(`${name}=${JSON.stringify(file)} cannot be read (${why}): give the path of a PEM file the gateway can read`);
  }
}

/**
 * The webhook a Twilio number's "A call comes in" points at: it answers with the TwiML that
 * connects the call to this gateway's media stream (`<Connect><Stream>`), so a number needs one
 * setting. The webhook URL's own query parameters that a call may set (greeting, instructions,
 * voice, language, and the gateway key) travel on as `<Parameter>`s, since a stream URL may not
 * carry a query string. A signed request (TWILIO_AUTH_TOKEN) is checked, form parameters included.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkCarrierSignature } from '../carrier-signatures.js';
import type { TelephonyOptions } from '../options.js';
import { forwardedParameters, publicHost } from '../webhook-request.js';

export function twimlHandler(streamPath: string, options: TelephonyOptions) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'POST' && request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET, POST', 'content-type': 'text/plain' }).end('use POST (Twilio\'s default) or GET\n');
      return;
    }
    const body = await readBody(request, options.maxMessageBytes);
    if (body === null) {
      response.writeHead(413, { 'content-type': 'text/plain' }).end(`the request body is over ${options.maxMessageBytes} bytes (MAX_MESSAGE_BYTES)\n`);
      return;
    }
    const form = request.method === 'POST' ? new URLSearchParams(body) : new URLSearchParams();
    const check = checkCarrierSignature(request, 'http', options.signatures, form);
    if (check.kind === 'invalid' || (check.kind === 'absent' && options.signatureRequired)) {
      const why = check.kind === 'invalid' ? check.message : 'this gateway takes only signed requests: the X-Twilio-Signature header is missing';
      options.log.warn({ transport: 'twilio' }, `TwiML webhook refused: ${why}`);
      response.writeHead(403, { 'content-type': 'text/plain' }).end(`${why}\n`);
      return;
    }
    const parameters = forwardedParameters(request).map(([name, value]) => `<Parameter name="${name}" value="${xml(value)}"/>`);
    // wss: Twilio dials only wss.
    const streamUrl = `wss://${publicHost(request, options)}${streamPath}`;
    const twiml =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Response><Connect><Stream url="${xml(streamUrl)}">${parameters.join('')}</Stream></Connect></Response>\n`;
    response.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(twiml);
  };
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** The body as text, or null past `maxBytes` (the rest is not read). */
async function readBody(request: IncomingMessage, maxBytes: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      request.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

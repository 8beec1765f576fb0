/**
 * Logs: the pino JSON lines the gateway writes during a conversation all carry the session id,
 * turn lines carry the turn id, and what was said shows only at debug level, never at info.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ask } from '../../src/client/ask-client.js';
import { createLogger } from '../../src/observability/logging.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import { startScriptedGateway } from './scripted-gateway.js';

const SPOKEN = 'what is the weather';
const TYPED = 'hello logs';
const REPLY = 'It is sunny and warm today.';
const DEBUG = 20;

interface LogLine {
  level: number;
  msg: string;
  sessionId?: string;
  turnId?: string;
  [field: string]: unknown;
}

void describe('structured logs of a session', () => {
  void it('every line has the session id, turn lines the turn id, and no words at info level', async () => {
    const raw: string[] = [];
    let capturing = false;
    const logger = createLogger('debug', { write: (line: string) => void (capturing && raw.push(line)) });
    const gateway = await startScriptedGateway({ logger, utterances: [SPOKEN], reply: REPLY });
    let sessionId: string;
    try {
      capturing = true; // from here on, everything logged is about the one conversation
      const result = await ask({
        server: gateway.grpcAddress,
        pcm: concat(silence(200), tone(800), silence(1200)),
        sampleRateHz: 16000,
        texts: [TYPED],
        settleMs: 300,
        fast: true,
        timeoutMs: 30_000,
      });
      assert.deepEqual(result.errors, []);
      assert.deepEqual(result.turns.map((t) => t.transcript), [SPOKEN, TYPED]);
      sessionId = result.sessionId;
      const deadline = Date.now() + 10_000;
      while (!raw.some((l) => l.includes('session closed')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      capturing = false;
      await gateway.close();
    }

    const lines = raw.map((l) => JSON.parse(l) as LogLine);
    assert.deepEqual(
      lines.filter((l) => l.level > DEBUG).map((l) => l.msg),
      ['session opened', 'turn', 'turn', 'session closed'],
    );
    for (const line of lines) {
      assert.equal(line.sessionId, sessionId, `session id on ${JSON.stringify(line)}`);
      assert.ok(JSON.stringify(line).length < 2000, 'no audio in a log line');
    }
    const turnLines = lines.filter((l) => l.msg.startsWith('turn'));
    assert.deepEqual(turnLines.map((l) => l.turnId), ['turn_1', 'turn_1', 'turn_2', 'turn_2'], 'a turn line and a debug text line per turn');

    const atInfo = lines.filter((l) => l.level > DEBUG).map((l) => JSON.stringify(l));
    for (const words of [SPOKEN, TYPED, REPLY, 'sunny']) {
      assert.ok(!atInfo.some((l) => l.includes(words)), `"${words}" is not logged at info level`);
    }
    const atDebug = lines.filter((l) => l.level === DEBUG);
    assert.deepEqual(
      atDebug.map((l) => [l.transcript, l.heardText]),
      [
        [SPOKEN, REPLY],
        [TYPED, REPLY],
      ],
      'the words are there at debug level',
    );
    const closed = lines.find((l) => l.msg === 'session closed');
    assert.equal(closed?.cause, 'client_ended');
  });

  void it('at info level the words are not even produced', () => {
    const raw: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void raw.push(line) });
    logger.child({ sessionId: 'sess_x' }).debug({ transcript: SPOKEN }, 'turn text');
    logger.info('visible');
    assert.equal(raw.length, 1);
    assert.ok(!raw[0]!.includes(SPOKEN));
  });
});

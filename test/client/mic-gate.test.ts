import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MicGate } from '../../src/client/mic-gate.js';

const speech = () => Int16Array.from({ length: 320 }, (_, i) => (i % 2 ? 4000 : -4000));
const isSilence = (pcm: Int16Array) => pcm.every((s) => s === 0);

void describe('MicGate (half duplex)', () => {
  void it('passes the microphone while the agent is silent', () => {
    const gate = new MicGate({ fullDuplex: false, muteTailMs: 400 });
    const chunk = speech();
    assert.equal(gate.pass(chunk, 1000), chunk);
    assert.equal(gate.muted(1000), false);
  });

  void it('sends silence of the same length while reply audio plays and for the tail after it', () => {
    const gate = new MicGate({ fullDuplex: false, muteTailMs: 400 });
    gate.speakerPlaying(true, 1000);
    const muted = gate.pass(speech(), 1000);
    assert.equal(muted.length, 320);
    assert.ok(isSilence(muted));
    gate.speakerPlaying(true, 2000); // still playing a second later
    gate.speakerPlaying(false, 2020);
    assert.ok(isSilence(gate.pass(speech(), 2399)), 'within the tail after the last audio');
    assert.ok(!isSilence(gate.pass(speech(), 2400)), 'open again after the tail');
  });

  void it('"not playing" never shortens a mute already running', () => {
    const gate = new MicGate({ fullDuplex: false, muteTailMs: 300 });
    gate.speakerPlaying(true, 500);
    gate.speakerPlaying(false, 510);
    assert.equal(gate.muted(799), true);
    assert.equal(gate.muted(800), false);
  });

  void it('full duplex passes the microphone even while the agent speaks', () => {
    const gate = new MicGate({ fullDuplex: true, muteTailMs: 400 });
    gate.speakerPlaying(true, 1000);
    const chunk = speech();
    assert.equal(gate.pass(chunk, 1000), chunk);
  });

  void it('a negative tail is refused', () => {
    assert.throws(() => new MicGate({ fullDuplex: false, muteTailMs: -1 }), /muteTailMs/);
  });
});

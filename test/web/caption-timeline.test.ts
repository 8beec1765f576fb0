/** The agent's caption follows its voice: text appears when its audio starts playing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaptionTimeline } from '../../web/src/ui/caption-timeline.js';

void describe('caption timeline', () => {
  void it('shows each piece of text once playback passes the start of its audio', () => {
    const t = new CaptionTimeline();
    t.addText('It is sunny.');
    t.addAudio(1200);
    t.addAudio(300);
    t.addText(' Take a hat.');
    t.addAudio(900);
    assert.equal(t.textAt(0), '', 'nothing before the audio starts');
    assert.equal(t.textAt(40), 'It is sunny.');
    assert.equal(t.textAt(1500), 'It is sunny.', 'the second piece starts at 1500 ms');
    assert.equal(t.textAt(1520), 'It is sunny. Take a hat.');
    assert.equal(t.fullText, 'It is sunny. Take a hat.');
    assert.equal(t.audioReceivedMs, 2400);
  });
});

/** The latency chart's geometry: bars in proportion, unmeasured values left out, round ticks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layoutChart, roundUp } from '../../web/src/ui/latency-layout.js';

const BOX = { width: 300, height: 120, left: 40, right: 0, top: 10, bottom: 10 };

void describe('latency chart layout', () => {
  void it('rounds the axis up to 1, 2 or 5 times a power of ten', () => {
    assert.deepEqual([0, 7, 11, 180, 201, 640, 1001, 4200].map(roundUp), [10, 10, 20, 200, 500, 1000, 2000, 5000]);
  });

  void it('draws one bar per measured value, heights in proportion on a shared axis', () => {
    const layout = layoutChart(
      [
        { label: 'Turn 1', eouDelayMs: 500, llmTtftMs: 250, voiceToVoiceMs: 1000 },
        { label: 'Turn 2', eouDelayMs: 0, asrFinalMs: 100, voiceToVoiceMs: 800 },
      ],
      BOX,
    );
    assert.equal(layout.bars.length, 5, 'zero means not measured: no bar');
    const v2v1 = layout.bars.find((b) => b.turn === 0 && b.series === 4)!;
    const eou1 = layout.bars.find((b) => b.turn === 0 && b.series === 0)!;
    assert.equal(v2v1.height, 100, 'the largest value fills the plot (axis 1000 ms)');
    assert.equal(eou1.height, 50);
    assert.equal(layout.ticks.at(-1)!.valueMs, 1000);
    assert.ok(layout.groups[0]!.x < layout.groups[1]!.x);
    assert.ok(layout.bars.every((b) => b.x >= BOX.left && b.x + b.width <= BOX.width), 'inside the plot');
  });
});

/**
 * One home for every turn knob (src/core/turn-config.ts): the environment schema, the per-session
 * checks, the Realtime turn_detection bounds and the session config all read the same row.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { SETTINGS, type SettingName } from '../../src/config/schema.js';
import { GatewayError } from '../../src/core/events.js';
import { applySettings } from '../../src/core/settings.js';
import { TURN_KNOBS, turnValues, type TurnKnob, type TurnKnobName } from '../../src/core/turn-config.js';
import { readSessionUpdate } from '../../src/transports/realtime/session-config.js';
import { sessionConfig } from '../../src/server.js';

const knobs = Object.entries(TURN_KNOBS) as Array<[TurnKnobName, TurnKnob]>;
const numeric = knobs.filter((entry): entry is [TurnKnobName, Extract<TurnKnob, { min: number }>] => 'min' in entry[1]);

void describe('turn knobs', () => {
  void it('each knob with an environment variable is that setting: same default, same bounds', () => {
    for (const [name, knob] of knobs) {
      if (!knob.env) continue;
      const env = knob.env as SettingName;
      assert.ok(env in SETTINGS, `${name}: ${env} is a setting`);
      assert.equal(SETTINGS[env].default, String(knob.default), name);
      assert.equal(loadConfig({})[env], knob.default, `${name}: parsed default`);
    }
    for (const [name, knob] of numeric) {
      if (!knob.env) continue;
      assert.equal(loadConfig({ [knob.env]: String(knob.min) })[knob.env as SettingName], knob.min, `${name} min`);
      assert.equal(loadConfig({ [knob.env]: String(knob.max) })[knob.env as SettingName], knob.max, `${name} max`);
      const step = knob.kind === 'int' ? 1 : 0.001;
      assert.throws(() => loadConfig({ [knob.env!]: String(knob.min - step) }), ConfigError, `${name} below min`);
      assert.throws(() => loadConfig({ [knob.env!]: String(knob.max + step) }), ConfigError, `${name} above max`);
    }
  });

  void it('the server session config is the knobs at their defaults (speculative start on, as the setting says)', () => {
    const config = sessionConfig(loadConfig({}));
    assert.deepEqual(config.defaults.turn, {
      endOfTurnSource: TURN_KNOBS.endOfTurnSource.default,
      endOfTurnSilenceMs: TURN_KNOBS.endOfTurnSilenceMs.default,
      bargeInMinSpeechMs: TURN_KNOBS.bargeInMinSpeechMs.default,
      bargeInEnabled: TURN_KNOBS.bargeInEnabled.default,
      autoRespond: TURN_KNOBS.autoRespond.default,
      vadThreshold: TURN_KNOBS.vadThreshold.default,
      prefixPaddingMs: TURN_KNOBS.prefixPaddingMs.default,
      endOfTurnMaxSilenceMs: TURN_KNOBS.endOfTurnMaxSilenceMs.default,
      interruptionMode: TURN_KNOBS.interruptionMode.default,
      bargeInMinWords: TURN_KNOBS.bargeInMinWords.default,
      falseInterruptionTimeoutMs: TURN_KNOBS.falseInterruptionTimeoutMs.default,
    });
    assert.equal(config.speculativeStart, true);
    assert.equal(config.smartTurnThreshold, TURN_KNOBS.smartTurnThreshold.default);
    assert.equal(sessionConfig(loadConfig({ INTERRUPTION_MODE: 'pause', TURN_END_MAX_SILENCE_MS: '3000' })).defaults.turn.interruptionMode, 'pause');
    assert.equal(config.cancelBudgetMs, TURN_KNOBS.cancelBudgetMs.default);
    assert.equal(config.asrFinalWaitMs, TURN_KNOBS.asrFinalWaitMs.default);
    assert.equal(config.maxPieceChars, TURN_KNOBS.maxPieceChars.default);
    assert.equal(sessionConfig(loadConfig({ SPECULATIVE_START: 'false' })).speculativeStart, false);
  });

  void it('a client may set its knobs within the same bounds, and is told the bounds otherwise', () => {
    const current = sessionConfig(loadConfig({})).defaults;
    for (const [name, knob] of numeric) {
      if (!knob.clientField) continue;
      const field = name as 'endOfTurnSilenceMs';
      assert.equal(applySettings(current, { turn: { [field]: knob.min } }).turn[field], knob.min, name);
      assert.equal(applySettings(current, { turn: { [field]: knob.max } }).turn[field], knob.max, name);
      assert.throws(
        () => applySettings(current, { turn: { [field]: knob.max + 1 } }),
        (error: unknown) => error instanceof GatewayError && error.code === 'invalid_argument' && error.message.includes(`${knob.clientField} ${knob.max + 1} is out of range: use ${knob.min} to ${knob.max}`),
        name,
      );
    }
  });

  void it("the Realtime turn_detection takes the knobs' bounds", () => {
    const update = (td: Record<string, unknown>) => readSessionUpdate('beta', { turn_detection: { type: 'server_vad', ...td } });
    for (const [field, knob] of [['silence_duration_ms', TURN_KNOBS.endOfTurnSilenceMs], ['prefix_padding_ms', TURN_KNOBS.prefixPaddingMs], ['threshold', TURN_KNOBS.vadThreshold]] as const) {
      assert.doesNotThrow(() => update({ [field]: knob.min }), field);
      assert.doesNotThrow(() => update({ [field]: knob.max }), field);
      assert.throws(() => update({ [field]: knob.max + 1 }), field);
    }
  });

  void it('overrides are checked against the same bounds (the test harness uses this)', () => {
    assert.equal(turnValues({ cancelBudgetMs: 100 }).cancelBudgetMs, 100);
    assert.throws(() => turnValues({ cancelBudgetMs: 5 }), /cancelBudgetMs 5 is out of range: use 10 to 10000/);
    assert.throws(() => turnValues({ endOfTurnSource: 'telepathy' as 'vad' }), /not accepted: use asr, vad, commit/);
  });
});

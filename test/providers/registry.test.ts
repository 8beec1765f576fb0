/**
 * The vendor table (src/providers/registry.ts): every name a `*_PROVIDER` setting accepts has a
 * row, the settings refuse any other, the chosen rows are built and checked, and a backend that
 * serves two kinds is checked once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { checkBackends } from '../../src/providers/checks/run-checks.js';
import { createProviders } from '../../src/providers/create.js';
import { chosenVendors, VENDORS } from '../../src/providers/registry.js';
import { SimulatedRecognizer } from '../../src/providers/simulated/asr.js';
import { SimulatedChatModel } from '../../src/providers/simulated/llm.js';
import { SimulatedSynthesizer } from '../../src/providers/simulated/tts.js';
import { SimulatedVad } from '../../src/providers/simulated/vad.js';
import { VENDOR_LIST } from '../../src/providers/vendor-list.js';

const SETTING = { vad: 'VAD_PROVIDER', asr: 'ASR_PROVIDER', llm: 'LLM_PROVIDER', tts: 'TTS_PROVIDER' } as const;

void describe('vendor registry', () => {
  void it('has one row for each listed name, and each setting accepts exactly those names', () => {
    for (const kind of ['vad', 'asr', 'llm', 'tts'] as const) {
      assert.deepEqual(Object.keys(VENDORS[kind]).sort(), Object.keys(VENDOR_LIST[kind]).sort(), kind);
      for (const name of Object.keys(VENDOR_LIST[kind])) assert.equal(loadConfig({ [SETTING[kind]]: name })[SETTING[kind]], name);
      assert.throws(() => loadConfig({ [SETTING[kind]]: 'no-such-vendor' }), ConfigError);
    }
  });

  void it('chooses one row per kind (LLM auto: the server when LLM_BASE_URL is set)', () => {
    assert.deepEqual(chosenVendors(loadConfig({})), { vad: 'silero', asr: 'pocketsphinx', llm: 'llama-cpp', tts: 'espeak' });
    assert.equal(chosenVendors(loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:1/v1' })).llm, 'openai');
  });

  void it('builds the chosen rows', async () => {
    const all = { VAD_PROVIDER: 'simulated', ASR_PROVIDER: 'simulated', LLM_PROVIDER: 'simulated', TTS_PROVIDER: 'simulated', SIM_PROFILE: 'zero-latency' };
    const providers = await createProviders(loadConfig(all));
    assert.ok(providers.vad instanceof SimulatedVad);
    assert.ok(providers.asr instanceof SimulatedRecognizer);
    assert.ok(providers.llm instanceof SimulatedChatModel);
    assert.ok(providers.tts instanceof SimulatedSynthesizer);
  });

  void it('a bad setting of a chosen row stops the build before anything loads', async () => {
    await assert.rejects(createProviders(loadConfig({ VAD_PROVIDER: 'simulated', SIM_PROFILE: '/no/such/profile.json' })), ConfigError);
  });

  void it('checks each backend once, and says which vendors run in this process', async () => {
    const config = loadConfig({ ASR_PROVIDER: 'riva', TTS_PROVIDER: 'riva', RIVA_URI: '127.0.0.1:1', RIVA_TIMEOUT_MS: '500', LLM_PROVIDER: 'simulated' });
    const rows = await checkBackends(config, false);
    assert.equal(rows.filter((r) => r.check.startsWith('health')).length, 1, JSON.stringify(rows));
    assert.deepEqual(rows.at(-1), { backend: 'llm', check: 'backend', status: 'skip', detail: 'simulated runs in this process: nothing to reach' });
  });
});

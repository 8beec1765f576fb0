/**
 * The Grafana dashboard is a well-formed dashboard (the fields Grafana's import reads), bound to a
 * Prometheus data source variable, and shows what the issue asks for. Its queries are run against
 * a real Prometheus in prometheus-scrape.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

interface Target {
  expr: string;
  refId: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown }> };
}

const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/voice-gateway-dashboard.json', import.meta.url), 'utf8')) as Dashboard;
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

void describe('Grafana dashboard deploy/grafana/voice-gateway-dashboard.json', () => {
  void it('is an importable dashboard with a Prometheus data source variable', () => {
    assert.equal(typeof dashboard.uid, 'string');
    assert.equal(dashboard.title, 'Voice gateway');
    assert.ok(dashboard.schemaVersion >= 36, 'a current schema');
    const source = dashboard.templating.list.find((v) => v.type === 'datasource');
    assert.deepEqual({ name: source?.name, query: source?.query }, { name: 'datasource', query: 'prometheus' });
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      assert.ok(x >= 0 && x + w <= 24 && y >= 0 && h > 0, `panel "${panel.title}" fits the 24-column grid`);
      if (panel.type === 'row') continue;
      assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, `panel "${panel.title}" uses the variable`);
      assert.ok(panel.targets?.length, `panel "${panel.title}" has queries`);
      const refIds = panel.targets.map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `panel "${panel.title}" has distinct refIds`);
    }
  });

  void it('shows voice-to-voice and per-stage percentiles, sessions, barge-ins, backend errors and event-loop delay', () => {
    for (const quantile of ['0.5', '0.95', '0.99']) {
      assert.ok(queries.some((q) => q.includes(`histogram_quantile(${quantile}, sum by (le) (rate(voice_gateway_voice_to_voice_seconds_bucket`)), `voice-to-voice p${quantile}`);
      assert.ok(queries.some((q) => q.includes(`histogram_quantile(${quantile}, sum by (le, stage) (rate(voice_gateway_turn_stage_seconds_bucket`)), `per-stage p${quantile}`);
    }
    for (const metric of ['voice_gateway_sessions_active', 'voice_gateway_barge_ins_total', 'voice_gateway_backend_errors_total', 'nodejs_eventloop_lag_p99_seconds']) {
      assert.ok(queries.some((q) => q.includes(metric)), `a panel shows ${metric}`);
    }
  });
});

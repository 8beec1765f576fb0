/**
 * Reads the gateway's /metrics as Prometheus does: over HTTP, parsed by a Prometheus text-format
 * parser (parse-prometheus-text-format, a port of the Python client's parser), never by regexps.
 */
import { createRequire } from 'node:module';

export interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Sample[];
}

const require = createRequire(import.meta.url);
export const parsePrometheusText = require('parse-prometheus-text-format') as (text: string) => MetricFamily[];

export interface Scraped {
  text: string;
  contentType: string;
  /** Metric families with their types (a labelled histogram's samples are merged by the parser). */
  families: Map<string, MetricFamily>;
  /** Every series by its own name (`x_bucket`, `x_count`, `x_sum` apart), each sample with its labels. */
  series: Map<string, MetricFamily>;
}

export async function scrape(httpPort: number): Promise<Scraped> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  const text = await response.text();
  return { text, contentType: response.headers.get('content-type') ?? '', ...parseExposition(text) };
}

/**
 * Parses the text twice: as is (types), and without its TYPE lines, which makes the parser keep
 * each series and its labels apart (it folds the samples of a labelled histogram into one).
 */
export function parseExposition(text: string): Pick<Scraped, 'families' | 'series'> {
  // Interleaved series (x_bucket, x_sum, x_count for each label set) come back as one family per run.
  const byName = (families: MetricFamily[]) => {
    const merged = new Map<string, MetricFamily>();
    for (const family of families) {
      const seen = merged.get(family.name);
      if (seen) seen.metrics.push(...family.metrics);
      else merged.set(family.name, { ...family, metrics: [...family.metrics] });
    }
    return merged;
  };
  const untyped = text
    .split('\n')
    .filter((line) => !line.startsWith('# TYPE '))
    .join('\n');
  return { families: byName(parsePrometheusText(text)), series: byName(parsePrometheusText(untyped)) };
}

/** The sample of series `name` whose labels include `labels`; throws with what exists when there is none. */
export function sample(series: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): Sample {
  const family = series.get(name);
  if (!family) throw new Error(`no series ${name}; have ${[...series.keys()].join(', ')}`);
  const found = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!found) throw new Error(`no ${name}${JSON.stringify(labels)}; have ${JSON.stringify(family.metrics.map((m) => m.labels))}`);
  return found;
}

/** The value of the sample of series `name` (e.g. `x_total`, `x_count`) with `labels`. */
export function valueOf(series: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number {
  return Number(sample(series, name, labels).value);
}

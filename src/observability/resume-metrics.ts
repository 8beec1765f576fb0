/**
 * Metrics of resume and of the session store, on the gateway's registry: resumes by outcome,
 * store failures by operation, and whether the store answers. Labels come from fixed sets.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ResumeOutcome } from '../resume/resume-refusal.js';
import type { StoreOperation } from '../resume/store-guard.js';

const OUTCOMES: ResumeOutcome[] = ['resumed', 'restored', 'refused_forged', 'refused_expired', 'refused_other_subject', 'refused_used', 'store_unavailable'];
const OPERATIONS: StoreOperation[] = ['save', 'claim', 'renew', 'remove'];

export class ResumeMetrics {
  private readonly resumes: Counter<'outcome'>;
  private readonly storeErrors: Counter<'operation'>;
  private readonly storeUp: Gauge<never>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.resumes = new Counter({
      name: 'voice_gateway_session_resumes_total',
      help: 'Resume attempts by outcome: resumed (held by this process), restored (from the store), refused_*, store_unavailable (a new session instead)',
      labelNames: ['outcome'],
      registers,
    });
    this.storeErrors = new Counter({
      name: 'voice_gateway_session_store_errors_total',
      help: 'Session store calls that failed or outlasted SESSION_STORE_TIMEOUT_MS, by operation (sessions go on without resume)',
      labelNames: ['operation'],
      registers,
    });
    this.storeUp = new Gauge({ name: 'voice_gateway_session_store_up', help: '1 while the session store answers, 0 from a failed call until the next that succeeds', registers });
    for (const outcome of OUTCOMES) this.resumes.inc({ outcome }, 0);
    for (const operation of OPERATIONS) this.storeErrors.inc({ operation }, 0);
    this.storeUp.set(1);
  }

  resume(outcome: ResumeOutcome): void {
    this.resumes.inc({ outcome });
  }

  storeError(operation: StoreOperation): void {
    this.storeErrors.inc({ operation });
    this.storeUp.set(0);
  }

  storeRecovered(): void {
    this.storeUp.set(1);
  }
}

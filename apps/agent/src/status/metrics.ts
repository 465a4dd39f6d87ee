import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** What the gauges read when Prometheus scrapes; filled in by main once the parts exist. */
export interface MetricSources {
  liveSessions(): number;
  spool(): { bytes: number; backlog: number; oldestUnackedAgeSeconds: number };
}

/**
 * The agent's own metrics, on a registry of its own (not prom-client's global one) so several
 * agents can run in one test process. Engines register their counters on `registry`.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly connected: Gauge;
  readonly configVersion: Gauge;
  readonly recordingFailures: Counter<'reason'>;
  readonly snapshotApplyErrors: Counter;
  private sources: MetricSources = {
    liveSessions: () => 0,
    spool: () => ({ bytes: 0, backlog: 0, oldestUnackedAgeSeconds: 0 }),
  };

  constructor(version: string) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_agent_' });
    new Gauge({ name: 'portcullis_agent_build_info', help: 'Agent build; always 1', labelNames: ['version', 'node'], registers })
      .set({ version, node: process.version }, 1);
    this.connected = new Gauge({ name: 'portcullis_agent_connected', help: '1 while the control-plane stream is open', registers });
    this.configVersion = new Gauge({ name: 'portcullis_agent_config_version', help: 'Version of the snapshot being served', registers });
    const sources = (): MetricSources => this.sources;
    new Gauge({
      name: 'portcullis_agent_sessions_live',
      help: 'Live client sessions across engines',
      registers,
      collect() {
        this.set(sources().liveSessions());
      },
    });
    new Gauge({
      name: 'portcullis_agent_spool_bytes',
      help: 'Bytes of recordings on disk or waiting to be written',
      registers,
      collect() {
        this.set(sources().spool().bytes);
      },
    });
    new Gauge({
      name: 'portcullis_agent_spool_backlog_events',
      help: 'Recorded events not yet acknowledged by the control plane',
      registers,
      collect() {
        this.set(sources().spool().backlog);
      },
    });
    new Gauge({
      name: 'portcullis_agent_shipping_lag_seconds',
      help: 'Age of the oldest recorded event not yet acknowledged (0 when none)',
      registers,
      collect() {
        this.set(sources().spool().oldestUnackedAgeSeconds);
      },
    });
    this.recordingFailures = new Counter({
      name: 'portcullis_agent_recording_failures_total',
      help: 'Recording events that could not be spooled',
      labelNames: ['reason'],
      registers,
    });
    this.snapshotApplyErrors = new Counter({
      name: 'portcullis_agent_snapshot_apply_errors_total',
      help: 'Config snapshots rejected or not persisted',
      registers,
    });
  }

  observe(sources: Partial<MetricSources>): void {
    this.sources = { ...this.sources, ...sources };
  }
}

// The knobs of the llm_probe_exporter mixin. Override them without editing this file:
//
//   (import 'mixin.libsonnet') + { _config+:: { exporterSelector: 'job="llm-probe"', sloObjective: 0.999 } }
//
// then render with deploy/mixin/generate (or your own jsonnet call on prometheus_rules.jsonnet).
{
  _config+:: {
    // Selects the exporter's own scrape target in the self-health alerts (up, process_*,
    // scrape_duration_seconds). Must match the job of your scrape config / ServiceMonitor.
    exporterSelector: 'job="llm_probe_exporter"',

    // Labels that tell regions and clusters apart in a global view (Thanos, Mimir, federation):
    // the joins of the group and SLO alerts match on them, the `where` annotation prints them,
    // and the dashboards' legends show them.
    clusterLabel: 'cluster',
    regionLabel: 'region',

    // Availability SLO over a 30-day period: share of probe results that are UP. Recorded once
    // as llm_probe:slo_objective:ratio; every burn-rate window reads that series.
    sloObjective: 0.995,
    // Burn-rate factors of the multi-window alerts (Google SRE workbook, ch. 5): page over 1h/5m
    // and 6h/30m, ticket over 1d/2h and 3d/6h.
    pageBurnRateFast: 14.4,
    pageBurnRateSlow: 6,
    ticketBurnRateFast: 3,
    ticketBurnRateSlow: 1,
    // Failed results a long window must hold before a burn-rate alert fires: one timeout of a
    // probe that runs every 5 minutes is 16.7x over 1h, not an incident.
    sloMinFailures: 3,

    // Probe thresholds.
    stalledAfterSeconds: 300,  // no result for this long (and then `for: 5m`)
    latencyP95Seconds: 5,  // p95 of UP exchanges over 5m
    ttftP95Seconds: 5,
    costUSDPerDay: 5,  // spend of one target over 24h
    certExpiryWarningDays: 14,
    certExpiryCriticalDays: 3,

    // Exporter self-health thresholds.
    scheduleLagP99Seconds: 1,
    fdsUsedPercent: 80,  // open fds / max fds
    scrapeDurationSeconds: 8,  // of the 10s scrape_timeout of deploy/prometheus/prometheus.yml

    // Links in the annotations. %s is the lower-cased alert name (a heading of docs/runbook.md).
    runbookURLPattern: 'https://github.com/llm-probe/llm_probe_exporter/blob/main/docs/runbook.md#%s',
    // Base URL of the Grafana that holds grafana/dashboards (the compose stack's by default).
    grafanaURL: 'http://127.0.0.1:3000',
  },
}

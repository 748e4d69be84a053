// Recording rules for llm_probe_exporter (monitoring-mixin style: level:metric:operations),
// rendered into deploy/prometheus/rules/recording.rules.yml by deploy/mixin/generate.
//
// Every rule keeps the labels of the exporter's series (job, instance, target, probe, model and
// any external_labels of the exporter): they aggregate with `without (...)` instead of `by (...)`,
// so the alerts built on them can still be grouped and inhibited per instance and per target.
//
// The alert rules in alerts.libsonnet read these names; change one only together with
// the alerts, their unit tests in deploy/prometheus/tests and the dashboards.
{
  prometheusRules+:: {
    groups+: [
    // The availability SLO of every probe: the share of its results that are UP.
    {
      name: "llm-probe-slo-objective",
      rules: [
        // THE ONE PLACE TO CHANGE THE OBJECTIVE. 0.995 = 99.5 % of probe results UP, i.e. an error
        // budget of 0.5 %. The burn-rate alerts read it, so editing this number (or overriding this
        // rule) re-tunes every window at once. It is a single series with no labels on purpose: the
        // alerts join it with `on () group_left ()`. See docs/runbook.md#slo-objective.
        {
          record: "llm_probe:slo_objective:ratio",
          expr: "vector(%(sloObjective)s)" % $._config,
        },
      ],
    },
    // Error ratios of the short windows, evaluated at the global evaluation interval.
    // error = any class but UP (DESIGN.md §3); skipped probes are not results and do not count.
    {
      name: "llm-probe-slo-error-ratio-short",
      rules: [
        {
          record: "llm_probe:probe_error_ratio:rate5m",
          expr: |||
            sum without (status) (rate(llm_probe_total{status!="UP"}[5m]))
            /
            sum without (status) (rate(llm_probe_total[5m]))
          |||,
        },
        {
          record: "llm_probe:probe_error_ratio:rate30m",
          expr: |||
            sum without (status) (rate(llm_probe_total{status!="UP"}[30m]))
            /
            sum without (status) (rate(llm_probe_total[30m]))
          |||,
        },
        {
          record: "llm_probe:probe_error_ratio:rate1h",
          expr: |||
            sum without (status) (rate(llm_probe_total{status!="UP"}[1h]))
            /
            sum without (status) (rate(llm_probe_total[1h]))
          |||,
        },
      ],
    },
    // Outage ratios: the share of results whose class needs the provider or us now (DESIGN.md §3:
    // TIMEOUT, DNS_ERROR, CONNECTION_ERROR, TLS_ERROR, FORBIDDEN, OVERLOADED, SERVER_ERROR,
    // HTTP_ERROR, BAD_RESPONSE). The fast-burn page reads these; the classes left out have alerts of
    // their own (AUTH_ERROR, QUOTA_EXCEEDED: critical, with the fix; RATE_LIMITED, BAD_REQUEST,
    // MODEL_NOT_FOUND, EMPTY_CONTENT, CONTENT_MISMATCH, MODEL_MISMATCH: warnings). So a fixed key
    // cannot leave a burn-rate page behind once LLMProbeAuthFailure resolves.
    {
      name: "llm-probe-slo-outage-ratio",
      rules: [
        {
          record: "llm_probe:probe_outage_ratio:rate5m",
          expr: |||
            sum without (status) (rate(llm_probe_total{status=~"TIMEOUT|DNS_ERROR|CONNECTION_ERROR|TLS_ERROR|FORBIDDEN|OVERLOADED|SERVER_ERROR|HTTP_ERROR|BAD_RESPONSE"}[5m]))
            /
            sum without (status) (rate(llm_probe_total[5m]))
          |||,
        },
        {
          record: "llm_probe:probe_outage_ratio:rate30m",
          expr: |||
            sum without (status) (rate(llm_probe_total{status=~"TIMEOUT|DNS_ERROR|CONNECTION_ERROR|TLS_ERROR|FORBIDDEN|OVERLOADED|SERVER_ERROR|HTTP_ERROR|BAD_RESPONSE"}[30m]))
            /
            sum without (status) (rate(llm_probe_total[30m]))
          |||,
        },
        {
          record: "llm_probe:probe_outage_ratio:rate1h",
          expr: |||
            sum without (status) (rate(llm_probe_total{status=~"TIMEOUT|DNS_ERROR|CONNECTION_ERROR|TLS_ERROR|FORBIDDEN|OVERLOADED|SERVER_ERROR|HTTP_ERROR|BAD_RESPONSE"}[1h]))
            /
            sum without (status) (rate(llm_probe_total[1h]))
          |||,
        },
        // Outage results counted in the long page windows: a ratio alone pages on one timeout of a
        // probe that runs every 5 minutes (1 of 12 results in an hour is 16.7x the budget).
        {
          record: "llm_probe:probe_outages:increase1h",
          expr: |||
            sum without (status) (increase(llm_probe_total{status=~"TIMEOUT|DNS_ERROR|CONNECTION_ERROR|TLS_ERROR|FORBIDDEN|OVERLOADED|SERVER_ERROR|HTTP_ERROR|BAD_RESPONSE"}[1h]))
          |||,
        },
      ],
    },
    // The long windows read up to three days of every class counter; once a minute is plenty for
    // alerts that wait 15 minutes and more before they fire.
    {
      name: "llm-probe-slo-error-ratio-long",
      interval: "1m",
      rules: [
        {
          record: "llm_probe:probe_error_ratio:rate2h",
          expr: |||
            sum without (status) (rate(llm_probe_total{status!="UP"}[2h]))
            /
            sum without (status) (rate(llm_probe_total[2h]))
          |||,
        },
        {
          record: "llm_probe:probe_error_ratio:rate6h",
          expr: |||
            sum without (status) (rate(llm_probe_total{status!="UP"}[6h]))
            /
            sum without (status) (rate(llm_probe_total[6h]))
          |||,
        },
        {
          record: "llm_probe:probe_outage_ratio:rate6h",
          expr: |||
            sum without (status) (rate(llm_probe_total{status=~"TIMEOUT|DNS_ERROR|CONNECTION_ERROR|TLS_ERROR|FORBIDDEN|OVERLOADED|SERVER_ERROR|HTTP_ERROR|BAD_RESPONSE"}[6h]))
            /
            sum without (status) (rate(llm_probe_total[6h]))
          |||,
        },
        {
          record: "llm_probe:probe_outages:increase6h",
          expr: |||
            sum without (status) (increase(llm_probe_total{status=~"TIMEOUT|DNS_ERROR|CONNECTION_ERROR|TLS_ERROR|FORBIDDEN|OVERLOADED|SERVER_ERROR|HTTP_ERROR|BAD_RESPONSE"}[6h]))
          |||,
        },
        {
          record: "llm_probe:probe_errors:increase2h",
          expr: "sum without (status) (increase(llm_probe_total{status!=\"UP\"}[2h]))",
        },
        {
          record: "llm_probe:probe_errors:increase6h",
          expr: "sum without (status) (increase(llm_probe_total{status!=\"UP\"}[6h]))",
        },
        {
          record: "llm_probe:probe_error_ratio:rate1d",
          expr: |||
            sum without (status) (rate(llm_probe_total{status!="UP"}[1d]))
            /
            sum without (status) (rate(llm_probe_total[1d]))
          |||,
        },
        {
          record: "llm_probe:probe_error_ratio:rate3d",
          expr: |||
            sum without (status) (rate(llm_probe_total{status!="UP"}[3d]))
            /
            sum without (status) (rate(llm_probe_total[3d]))
          |||,
        },
      ],
    },
    // Latency quantiles per probe. One bucket series per (probe, le) and instance, so no sum is
    // needed and every label of the probe stays on the result. Both histograms count UP exchanges
    // only (DESIGN.md §4): a timeout is a TIMEOUT result, never a 10-second latency.
    {
      name: "llm-probe-latency",
      rules: [
        {
          record: "llm_probe:probe_duration_seconds:p95_rate5m",
          expr: "histogram_quantile(0.95, rate(llm_probe_duration_seconds_bucket[5m]))",
        },
        {
          record: "llm_probe:probe_time_to_first_token_seconds:p95_rate5m",
          expr: "histogram_quantile(0.95, rate(llm_probe_time_to_first_token_seconds_bucket[5m]))",
        },
      ],
    },

    ],
  },
}

// Alerting rules for llm_probe_exporter (monitoring-mixin style), rendered into
// deploy/prometheus/rules/alerts.rules.yml by deploy/mixin/generate. Thresholds, the exporter's job
// selector, the runbook and Grafana URLs and the cluster/region label names come from _config
// (config.libsonnet).
//
// Conventions
// - Names are CamelCase with the prefix LLMProbe; labels.severity is critical (pages), warning
//   (opens a ticket) or info (no notification, visible in Alertmanager and Grafana).
// - Annotations: summary (static), description (templated), runbook_url pointing at the section
//   of docs/runbook.md whose heading is the alert name (GitHub anchor = lower-cased name).
// - Alerts keep the labels of the series they come from: job, instance, target, probe, model (and
//   group for the failover-group alerts). Alertmanager groups by [alertname, target] and its
//   inhibit rules match on them, so do not aggregate them away.
// - Metric names are those of DESIGN.md §4, plus llm_probe_group_member{group,target} = 1
//   (one series per member of a failover group), which the group alerts need to name members.
//
// Unit tests: deploy/prometheus/tests/*.test.yml (promtool test rules), one case at least per alert.
{
  runbookURL(alertName):: $._config.runbookURLPattern % std.asciiLower(alertName),

  prometheusAlerts+:: {
    groups+: [
    // ---------------------------------------------------------------------------------------------
    // The exporter itself. When it is down or gone, every per-probe alert is inhibited in
    // Alertmanager (equal job, instance) in favour of these.
    {
      name: "llm-probe-exporter",
      rules: [
        {
          alert: "LLMProbeExporterDown",
          expr: "up{%(exporterSelector)s} == 0" % $._config,
          'for': "5m",
          labels: {
            severity: "critical",
          },
          annotations: {
            summary: "LLM probe exporter is down.",
            description: "Prometheus could not scrape {{ $labels.instance }} (job {{ $labels.job }}) for 5 minutes: none of the probes it runs is watched.",
            runbook_url: $.runbookURL('LLMProbeExporterDown'),
          },
        },
        {
          alert: "LLMProbeExporterAbsent",
          expr: "absent(up{%(exporterSelector)s})" % $._config,
          'for': "5m",
          labels: {
            severity: "critical",
          },
          annotations: {
            summary: "LLM probe exporter has disappeared from Prometheus.",
            description: "Prometheus has no scrape target for job {{ $labels.job }}: the exporter is gone from service discovery, so none of the probes is watched.",
            runbook_url: $.runbookURL('LLMProbeExporterAbsent'),
          },
        },
        {
          alert: "LLMProbeConfigReloadFailed",
          expr: "llm_probe_exporter_config_last_reload_successful == 0",
          'for': "5m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "LLM probe exporter failed to reload its configuration.",
            description: "{{ $labels.instance }} rejected its last configuration reload and keeps running the previous configuration.",
            runbook_url: $.runbookURL('LLMProbeConfigReloadFailed'),
          },
        },
        // No result for more than 5 minutes, for 5 minutes (so about 10 minutes without a result),
        // unless the scheduler skipped the probe on purpose (Retry-After backoff, spent budget).
        // A probe that never ran (timestamp 0) counts from the exporter's start instead.
        // Probes with an interval of 9 minutes or more need a larger figure here.
        {
          alert: "LLMProbeStalled",
          expr: (|||
            time() - (
                llm_probe_last_run_timestamp_seconds > 0
              or
                llm_probe_last_run_timestamp_seconds * 0
                + on (job, instance) group_left () process_start_time_seconds
            ) > %(stalledAfterSeconds)s
            unless on (job, instance, target, probe, model)
              increase(llm_probe_skipped_total[10m]) > 0
          ||| % $._config),
          'for': "5m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "An LLM probe has stopped running.",
            description: "Probe {{ $labels.target }}/{{ $labels.probe }} on {{ $labels.instance }} has produced no result for {{ $value | humanizeDuration }} and was not skipped on purpose: its scheduler or event loop is stuck.",
            runbook_url: $.runbookURL('LLMProbeStalled'),
          },
        },
        // A crash loop is invisible to `up` (each new process answers scrapes) and resets every
        // probe to healthy: three starts in 30 minutes pages, because nothing is watched reliably.
        {
          alert: "LLMProbeExporterRestarting",
          expr: (|||
            changes(process_start_time_seconds{%(exporterSelector)s}[30m]) >= 2
              and process_start_time_seconds{%(exporterSelector)s}
          ||| % $._config),
          'for': "0m",
          keep_firing_for: "10m",
          labels: {
            severity: "critical",
          },
          annotations: {
            summary: "LLM probe exporter keeps restarting.",
            description: "{{ $labels.instance }} (job {{ $labels.job }}) started {{ $value | humanize }} more times in the last 30 minutes: it is crash-looping, and every restart reports every probe healthy again.",
            runbook_url: $.runbookURL('LLMProbeExporterRestarting'),
          },
        },
        // Probes start late: too many probes for the machine, or a blocked event loop. Results get
        // sparser than configured, so every alert above reacts later than its documented time.
        {
          alert: "LLMProbeExporterScheduleLag",
          expr: (|||
            histogram_quantile(0.99, rate(llm_probe_exporter_schedule_lag_seconds_bucket{%(exporterSelector)s}[10m])) > %(scheduleLagP99Seconds)s
          ||| % $._config),
          'for': "15m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "LLM probe exporter starts its probes late.",
            description: "The p99 schedule lag of {{ $labels.instance }} over 10 minutes is {{ $value | humanizeDuration }}, above %(scheduleLagP99Seconds)ss: probes run later than their interval says." % $._config,
            runbook_url: $.runbookURL('LLMProbeExporterScheduleLag'),
          },
        },
        // An exporter that probes nothing raises no other alert at all.
        {
          alert: "LLMProbeExporterNoProbes",
          expr: "llm_probe_exporter_probes_configured{%(exporterSelector)s} == 0" % $._config,
          'for': "10m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "LLM probe exporter has no probes configured.",
            description: "{{ $labels.instance }} runs with 0 probes (empty config, or a shard that got no targets): nothing is watched from there.",
            runbook_url: $.runbookURL('LLMProbeExporterNoProbes'),
          },
        },
        {
          alert: "LLMProbeExporterFdsNearLimit",
          expr: (|||
            process_open_fds{%(exporterSelector)s} / process_max_fds{%(exporterSelector)s} > %(fdsUsedPercent)s / 100
          ||| % $._config),
          'for': "15m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "LLM probe exporter is near its file descriptor limit.",
            description: "{{ $labels.instance }} uses {{ $value | humanizePercentage }} of its file descriptors; at the limit, probes fail with CONNECTION_ERROR that is not the upstream's.",
            runbook_url: $.runbookURL('LLMProbeExporterFdsNearLimit'),
          },
        },
        // 8s of the 10s scrape_timeout of deploy/prometheus/prometheus.yml.
        {
          alert: "LLMProbeExporterScrapeSlow",
          expr: (|||
            avg_over_time(scrape_duration_seconds{%(exporterSelector)s}[10m]) > %(scrapeDurationSeconds)s
              and up{%(exporterSelector)s}
          ||| % $._config),
          'for': "15m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "Scraping the LLM probe exporter takes nearly the scrape timeout.",
            description: "Scrapes of {{ $labels.instance }} took {{ $value | humanizeDuration }} on average over 10 minutes (timeout 10s): shard it before scrapes start to fail.",
            runbook_url: $.runbookURL('LLMProbeExporterScrapeSlow'),
          },
        },
        // Shards or regions running different versions classify differently. Info: visible, not sent.
        {
          alert: "LLMProbeExporterVersionSkew",
          expr: "count without (version, revision) (count without (instance) (llm_probe_exporter_build_info{%(exporterSelector)s})) > 1" % $._config,
          'for': "1h",
          labels: {
            severity: "info",
          },
          annotations: {
            summary: "LLM probe exporters of one job run different versions.",
            description: "{{ $value }} different versions of the exporter run in job {{ $labels.job }}.",
            runbook_url: $.runbookURL('LLMProbeExporterVersionSkew'),
          },
        },
        // Always firing. Alertmanager routes it to its own receiver (a dead man's switch that
        // alarms when the notifications STOP): proof that rules are evaluated and delivered.
        {
          alert: "LLMProbeWatchdog",
          expr: "vector(1)",
          labels: {
            severity: "info",
          },
          annotations: {
            summary: "Alerting pipeline heartbeat (always firing).",
            description: "Prometheus evaluates the llm_probe_exporter rules and reaches Alertmanager. If this alert stops arriving, alerting is broken.",
            runbook_url: $.runbookURL('LLMProbeWatchdog'),
          },
        },
      ],
    },
    // ---------------------------------------------------------------------------------------------
    // One probe.
    {
      name: "llm-probe-probes",
      rules: [
        // llm_probe_healthy already applies failure_threshold / recovery_threshold; `for` and
        // `keep_firing_for` add time hysteresis on top, against a flapping upstream.
        // The value is the number of consecutive failures.
        // Only classes that need the provider or us now (network, TLS, 403, 5xx, broken replies):
        // AUTH_ERROR and QUOTA_EXCEEDED page through their own alerts, with the fix; RATE_LIMITED,
        // BAD_REQUEST, MODEL_NOT_FOUND, EMPTY_CONTENT, CONTENT_MISMATCH and MODEL_MISMATCH are
        // configuration or quality problems with warnings of their own (LLMProbeRateLimited,
        // LLMProbeMisconfigured, LLMProbeBadAnswer, LLMProbeModelMismatch).
        // A target without failover group has no backup: critical. A member of a failover group
        // has a backup while the group has a healthy target: warning, and the group alerts below
        // escalate (LLMProbeFailoverGroupDown pages and inhibits this one).
        {
          alert: "LLMProbeDown",
          expr: (|||
            llm_probe_consecutive_failures
              and llm_probe_healthy == 0
              and ignoring (status) llm_probe_status{status=~"TIMEOUT|DNS_ERROR|CONNECTION_ERROR|TLS_ERROR|FORBIDDEN|OVERLOADED|SERVER_ERROR|HTTP_ERROR|BAD_RESPONSE"} == 1
              unless on (job, instance, %(clusterLabel)s, %(regionLabel)s, target) llm_probe_group_member
          ||| % $._config),
          'for': "1m",
          keep_firing_for: "5m",
          labels: {
            severity: "critical",
          },
          annotations: {
            summary: "An LLM probe is down.",
            description: "{{ $labels.target }}/{{ $labels.probe }} has failed {{ $value | humanize }} probes in a row and is unhealthy; last result: {{ with printf \"llm_probe_status{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q} == 1\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe | query }}{{ . | first | label \"status\" }}{{ else }}unknown{{ end }}. The target is in no failover group: there is no backup." % $._config,
            runbook_url: $.runbookURL('LLMProbeDown'),
            since: "{{ with printf \"llm_probe_last_success_timestamp_seconds{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q} > 0\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }}{{ . | first | value | humanizeTimestamp }}{{ with printf \"time() - llm_probe_last_success_timestamp_seconds{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q}\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }} ({{ . | first | value | humanizeDuration }} ago){{ end }}{{ else }}never since the exporter started{{ end }}" % $._config,
            class: "{{ with printf \"llm_probe_status{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q} == 1\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }}{{ . | first | label \"status\" }}{{ else }}unknown{{ end }}" % $._config,
            where: "{{ with or $labels.%(regionLabel)s $externalLabels.%(regionLabel)s }}%(regionLabel)s {{ . }}{{ else }}no %(regionLabel)s label{{ end }}{{ with or $labels.%(clusterLabel)s $externalLabels.%(clusterLabel)s }}, %(clusterLabel)s {{ . }}{{ end }}, exporter {{ $labels.instance }}" % $._config,
            dashboard_url: "%(grafanaURL)s/d/llm-probe-detail/llm-probe-detail?var-job={{ $labels.job }}&var-instance={{ $labels.instance }}&var-target={{ $labels.target }}&var-probe={{ $labels.probe }}" % $._config,
          },
        },
        {
          alert: "LLMProbeDown",
          expr: (|||
            llm_probe_consecutive_failures
              and llm_probe_healthy == 0
              and ignoring (status) llm_probe_status{status=~"TIMEOUT|DNS_ERROR|CONNECTION_ERROR|TLS_ERROR|FORBIDDEN|OVERLOADED|SERVER_ERROR|HTTP_ERROR|BAD_RESPONSE"} == 1
              and on (job, instance, %(clusterLabel)s, %(regionLabel)s, target) llm_probe_group_member
          ||| % $._config),
          'for': "1m",
          keep_firing_for: "5m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "An LLM probe is down.",
            description: "{{ $labels.target }}/{{ $labels.probe }} has failed {{ $value | humanize }} probes in a row and is unhealthy; last result: {{ with printf \"llm_probe_status{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q} == 1\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe | query }}{{ . | first | label \"status\" }}{{ else }}unknown{{ end }}. The target is in a failover group, which can serve from another member." % $._config,
            runbook_url: $.runbookURL('LLMProbeDown'),
            since: "{{ with printf \"llm_probe_last_success_timestamp_seconds{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q} > 0\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }}{{ . | first | value | humanizeTimestamp }}{{ with printf \"time() - llm_probe_last_success_timestamp_seconds{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q}\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }} ({{ . | first | value | humanizeDuration }} ago){{ end }}{{ else }}never since the exporter started{{ end }}" % $._config,
            class: "{{ with printf \"llm_probe_status{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q} == 1\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }}{{ . | first | label \"status\" }}{{ else }}unknown{{ end }}" % $._config,
            where: "{{ with or $labels.%(regionLabel)s $externalLabels.%(regionLabel)s }}%(regionLabel)s {{ . }}{{ else }}no %(regionLabel)s label{{ end }}{{ with or $labels.%(clusterLabel)s $externalLabels.%(clusterLabel)s }}, %(clusterLabel)s {{ . }}{{ end }}, exporter {{ $labels.instance }}" % $._config,
            backup: "{{ with printf \"sort(llm_probe_group_rank{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q} and on (job, instance, %(clusterLabel)s, %(regionLabel)s, group) llm_probe_group_member{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q} and on (job, instance, %(clusterLabel)s, %(regionLabel)s, target) (min without (probe, model) (llm_probe_healthy) == 1))\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target | query }}{{ range $i, $m := . }}{{ if $i }}, {{ end }}{{ $m.Labels.target }} ({{ $m.Labels.group }} #{{ $m.Value }}){{ end }}{{ else }}none healthy{{ end }}" % $._config,
            dashboard_url: "%(grafanaURL)s/d/llm-probe-detail/llm-probe-detail?var-job={{ $labels.job }}&var-instance={{ $labels.instance }}&var-target={{ $labels.target }}&var-probe={{ $labels.probe }}" % $._config,
          },
        },
        // 401: the key is bad. It will not heal by itself, so it pages on the second failed result
        // in a row (a relay's one-off 401 does not page). Results, not time: `for` on a last-result
        // gauge would page on one result of a probe that runs every 5 minutes.
        // keep_firing_for equals LLMProbeDown's: the inhibition it holds over LLMProbeDown and the
        // burn-rate alerts of the same probe must not end before them (no new page after the fix).
        {
          alert: "LLMProbeAuthFailure",
          expr: |||
            llm_probe_status{status="AUTH_ERROR"} == 1
              and ignoring (status) llm_probe_consecutive_failures >= 2
          |||,
          'for': "0m",
          keep_firing_for: "5m",
          labels: {
            severity: "critical",
          },
          annotations: {
            summary: "An LLM API rejects the probe's API key.",
            description: "{{ $labels.target }}/{{ $labels.probe }} is rejected with AUTH_ERROR (401): the API key is invalid, revoked or expired.",
            runbook_url: $.runbookURL('LLMProbeAuthFailure'),
            since: "{{ with printf \"llm_probe_last_success_timestamp_seconds{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q} > 0\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }}{{ . | first | value | humanizeTimestamp }}{{ with printf \"time() - llm_probe_last_success_timestamp_seconds{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q}\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }} ({{ . | first | value | humanizeDuration }} ago){{ end }}{{ else }}never since the exporter started{{ end }}" % $._config,
            class: "{{ with printf \"llm_probe_status{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q} == 1\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }}{{ . | first | label \"status\" }}{{ else }}unknown{{ end }}" % $._config,
            where: "{{ with or $labels.%(regionLabel)s $externalLabels.%(regionLabel)s }}%(regionLabel)s {{ . }}{{ else }}no %(regionLabel)s label{{ end }}{{ with or $labels.%(clusterLabel)s $externalLabels.%(clusterLabel)s }}, %(clusterLabel)s {{ . }}{{ end }}, exporter {{ $labels.instance }}" % $._config,
            dashboard_url: "%(grafanaURL)s/d/llm-probe-detail/llm-probe-detail?var-job={{ $labels.job }}&var-instance={{ $labels.instance }}&var-target={{ $labels.target }}&var-probe={{ $labels.probe }}" % $._config,
          },
        },
        // 402 / 429 insufficient_quota / billing_error, on the second failed result in a row: some
        // relays answer insufficient_quota for a moment when their upstream pool is saturated.
        {
          alert: "LLMProbeQuotaExceeded",
          expr: |||
            llm_probe_status{status="QUOTA_EXCEEDED"} == 1
              and ignoring (status) llm_probe_consecutive_failures >= 2
          |||,
          'for': "0m",
          keep_firing_for: "5m",
          labels: {
            severity: "critical",
          },
          annotations: {
            summary: "An LLM API account is out of quota or credit.",
            description: "{{ $labels.target }}/{{ $labels.probe }} answers QUOTA_EXCEEDED (402, 429 insufficient_quota or billing_error): the account is out of credit or over its spending limit.",
            runbook_url: $.runbookURL('LLMProbeQuotaExceeded'),
            since: "{{ with printf \"llm_probe_last_success_timestamp_seconds{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q} > 0\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }}{{ . | first | value | humanizeTimestamp }}{{ with printf \"time() - llm_probe_last_success_timestamp_seconds{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q}\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }} ({{ . | first | value | humanizeDuration }} ago){{ end }}{{ else }}never since the exporter started{{ end }}" % $._config,
            class: "{{ with printf \"llm_probe_status{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q} == 1\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }}{{ . | first | label \"status\" }}{{ else }}unknown{{ end }}" % $._config,
            where: "{{ with or $labels.%(regionLabel)s $externalLabels.%(regionLabel)s }}%(regionLabel)s {{ . }}{{ else }}no %(regionLabel)s label{{ end }}{{ with or $labels.%(clusterLabel)s $externalLabels.%(clusterLabel)s }}, %(clusterLabel)s {{ . }}{{ end }}, exporter {{ $labels.instance }}" % $._config,
            dashboard_url: "%(grafanaURL)s/d/llm-probe-detail/llm-probe-detail?var-job={{ $labels.job }}&var-instance={{ $labels.instance }}&var-target={{ $labels.target }}&var-probe={{ $labels.probe }}" % $._config,
          },
        },
        // Rate limiting is transient by nature; only a sustained majority of 429s (at least 3) is
        // worth a ticket. `and llm_probe_success`: only probes the exporter still runs (a removed
        // target's counters stay in the range for 15 minutes).
        {
          alert: "LLMProbeRateLimited",
          expr: |||
            (
                sum without (status) (increase(llm_probe_total{status="RATE_LIMITED"}[15m]))
              /
                sum without (status) (increase(llm_probe_total[15m]))
              > 0.5
            )
            and sum without (status) (increase(llm_probe_total{status="RATE_LIMITED"}[15m])) >= 3
            and llm_probe_success
          |||,
          'for': "5m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "An LLM API keeps rate limiting the probe.",
            description: "{{ $value | humanizePercentage }} of the results of {{ $labels.target }}/{{ $labels.probe }} over the last 15 minutes were RATE_LIMITED (429).",
            runbook_url: $.runbookURL('LLMProbeRateLimited'),
          },
        },
        {
          alert: "LLMProbeHighLatency",
          expr: "llm_probe:probe_duration_seconds:p95_rate5m > %(latencyP95Seconds)s and llm_probe_success" % $._config,
          'for': "10m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "An LLM API answers slowly.",
            description: "The p95 duration of {{ $labels.target }}/{{ $labels.probe }}{{ with $labels.model }} ({{ . }}){{ end }} over 5 minutes is {{ $value | humanizeDuration }}, above 5s (UP exchanges only; failures are counted by class, not as latency).",
            runbook_url: $.runbookURL('LLMProbeHighLatency'),
          },
        },
        {
          alert: "LLMProbeSlowTimeToFirstToken",
          expr: "llm_probe:probe_time_to_first_token_seconds:p95_rate5m > %(ttftP95Seconds)s and llm_probe_success" % $._config,
          'for': "10m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "An LLM API is slow to start streaming.",
            description: "The p95 time to first token of {{ $labels.target }}/{{ $labels.probe }}{{ with $labels.model }} ({{ . }}){{ end }} over 5 minutes is {{ $value | humanizeDuration }}, above 5s.",
            runbook_url: $.runbookURL('LLMProbeSlowTimeToFirstToken'),
          },
        },
        {
          alert: "LLMProbeModelMissing",
          expr: "llm_probe_model_listed == 0",
          'for': "5m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "An expected model is missing from an LLM API's model list.",
            description: "Model {{ $labels.model }} is not listed by {{ $labels.target }} (probe {{ $labels.probe }}, GET /models) although expect_models requires it.",
            runbook_url: $.runbookURL('LLMProbeModelMissing'),
          },
        },
        {
          alert: "LLMProbeModelMismatch",
          expr: "llm_probe_status{status=\"MODEL_MISMATCH\"} == 1",
          'for': "2m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "An LLM API serves a different model than the one requested.",
            description: "{{ $labels.target }}/{{ $labels.probe }} asked for {{ $labels.model }} but was served {{ with printf \"llm_probe_served_model_info{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q}\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe | query }}{{ . | first | label \"served\" }}{{ else }}another model{{ end }}." % $._config,
            runbook_url: $.runbookURL('LLMProbeModelMismatch'),
          },
        },
        // The probe's request is wrong for this model (400/422, a retired or unknown model): a
        // config change, not an outage. Same thresholds as LLMProbeDown.
        {
          alert: "LLMProbeMisconfigured",
          expr: |||
            llm_probe_consecutive_failures
              and llm_probe_healthy == 0
              and ignoring (status) llm_probe_status{status=~"BAD_REQUEST|MODEL_NOT_FOUND"} == 1
          |||,
          'for': "1m",
          keep_firing_for: "5m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "An LLM probe's request is rejected as wrong for its model.",
            description: "{{ $labels.target }}/{{ $labels.probe }}{{ with $labels.model }} ({{ . }}){{ end }} has failed {{ $value | humanize }} probes in a row with {{ with printf \"llm_probe_status{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q} == 1\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }}{{ . | first | label \"status\" }}{{ else }}unknown{{ end }}: the model is retired or renamed, or needs other request parameters. Fix the probe's config." % $._config,
            runbook_url: $.runbookURL('LLMProbeMisconfigured'),
          },
        },
        // 2xx replies without usable content (reasoning budget spent, expect_content failed).
        {
          alert: "LLMProbeBadAnswer",
          expr: |||
            llm_probe_consecutive_failures
              and llm_probe_healthy == 0
              and ignoring (status) llm_probe_status{status=~"EMPTY_CONTENT|CONTENT_MISMATCH"} == 1
          |||,
          'for': "1m",
          keep_firing_for: "5m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "An LLM API answers, but not with the expected content.",
            description: "{{ $labels.target }}/{{ $labels.probe }}{{ with $labels.model }} ({{ . }}){{ end }} has failed {{ $value | humanize }} probes in a row with {{ with printf \"llm_probe_status{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q} == 1\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }}{{ . | first | label \"status\" }}{{ else }}unknown{{ end }}: empty replies (max_tokens spent on reasoning?) or replies failing expect_content." % $._config,
            runbook_url: $.runbookURL('LLMProbeBadAnswer'),
          },
        },
        // Informational: billed probes are paused because the target's budget.max_usd_per_day is
        // spent (the models probe goes on). Routed to the "null" receiver: no notification.
        {
          alert: "LLMProbeBudgetExhausted",
          expr: |||
            increase(llm_probe_skipped_total{reason="budget"}[15m]) > 0
              and ignoring (reason) llm_probe_success
          |||,
          'for': "5m",
          labels: {
            severity: "info",
          },
          annotations: {
            summary: "An LLM probe is paused by its daily cost budget.",
            description: "{{ $labels.target }}/{{ $labels.probe }} is skipped because the daily budget of {{ $labels.target }} (budget.max_usd_per_day) is spent; it resumes when the budget frees up.",
            runbook_url: $.runbookURL('LLMProbeBudgetExhausted'),
          },
        },
      ],
    },
    // ---------------------------------------------------------------------------------------------
    // Failover groups.
    {
      name: "llm-probe-failover-groups",
      rules: [
        // Value: healthy targets left. One alert per group.
        {
          alert: "LLMProbeFailoverGroupDegraded",
          expr: |||
            llm_probe_group_healthy_targets < llm_probe_group_targets
            and
            llm_probe_group_healthy_targets > 0
          |||,
          'for': "1m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "A failover group has lost a target but still has a healthy one.",
            description: "Failover group {{ $labels.group }} has {{ $value }} of {{ with printf \"llm_probe_group_targets{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,group=%%q}\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.group | query }}{{ . | first | value }}{{ else }}?{{ end }} targets healthy; traffic can still fail over." % $._config,
            runbook_url: $.runbookURL('LLMProbeFailoverGroupDegraded'),
            backup: "{{ with printf \"sort(llm_probe_group_rank{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,group=%%q} and on (job, instance, %(clusterLabel)s, %(regionLabel)s, target) (min without (probe, model) (llm_probe_healthy) == 1))\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.group | query }}{{ range $i, $m := . }}{{ if $i }}, {{ end }}{{ $m.Labels.target }} (#{{ $m.Value }}){{ end }}{{ else }}none ranked{{ end }}" % $._config,
          },
        },
        // Value: number of targets in the group (all unhealthy). One alert per member of the group,
        // labelled with group AND target: Alertmanager inhibits LLMProbeDown of the same target with
        // it, and its route groups these alerts by [alertname, group] into one notification.
        // The `or on (...)` arm keeps a group-level alert (no target label) when the exporter does
        // not expose llm_probe_group_member, so the page never depends on that metric.
        // (A join adding `group` to LLMProbeDown instead would fail with many-to-many matching as
        // soon as a target belongs to two groups, and LLMProbeDown would stop evaluating.)
        {
          alert: "LLMProbeFailoverGroupDown",
          expr: (|||
            (
                llm_probe_group_member
              * on (job, instance, %(clusterLabel)s, %(regionLabel)s, group) group_left ()
                (llm_probe_group_targets > 0 and llm_probe_group_healthy_targets == 0)
            )
            or on (job, instance, %(clusterLabel)s, %(regionLabel)s, group)
            (llm_probe_group_targets > 0 and llm_probe_group_healthy_targets == 0)
          ||| % $._config),
          'for': "1m",
          // Longer than the members' LLMProbeDown keep_firing_for (5m): the inhibition it holds over
          // them must not end first, or a member that recovered with the group would be notified
          // as newly down just after the group alert resolved.
          keep_firing_for: "6m",
          labels: {
            severity: "critical",
          },
          annotations: {
            summary: "A failover group has no healthy target left.",
            description: "Failover group {{ $labels.group }} has no healthy target among its {{ $value }} targets{{ with $labels.target }}; this alert is for member {{ . }}{{ end }}.",
            runbook_url: $.runbookURL('LLMProbeFailoverGroupDown'),
            since: "{{ with $labels.target }}{{ with printf \"max(llm_probe_last_success_timestamp_seconds{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q} > 0)\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s . | query }}{{ . | first | value | humanizeTimestamp }}{{ else }}never since the exporter started{{ end }}{{ else }}see the members' LLMProbeDown{{ end }}" % $._config,
            where: "{{ with or $labels.%(regionLabel)s $externalLabels.%(regionLabel)s }}%(regionLabel)s {{ . }}{{ else }}no %(regionLabel)s label{{ end }}{{ with or $labels.%(clusterLabel)s $externalLabels.%(clusterLabel)s }}, %(clusterLabel)s {{ . }}{{ end }}, exporter {{ $labels.instance }}" % $._config,
          },
        },
      ],
    },
    // ---------------------------------------------------------------------------------------------
    // Availability SLO: multi-window, multi-burn-rate (Google SRE workbook, ch. 5), for a 30-day
    // SLO period. The objective is llm_probe:slo_objective:ratio (recording rules), default 99.5 %.
    // Burn rate = error ratio / (1 - objective). The value of the alert is the long-window burn rate.
    {
      name: "llm-probe-slo",
      rules: [
        // Page: 14.4x over 1h and 5m (2 % of the 30-day budget in an hour), or 6x over 6h and 30m
        // (5 % in six hours), counting only outage classes (llm_probe:probe_outage_ratio: classes
        // with a page or a warning of their own are left out), and at least 3 outage results in the
        // long window: one timeout of a probe that runs every 5 minutes is 16.7x over 1h, not an
        // incident. The short window needs at least one by its ratio. `and llm_probe_success`: a
        // target removed from the config stops alerting at once instead of when its range empties.
        // `max(objective)`: in a global view (Thanos, Mimir, federation) every region records its
        // own objective series; a join on all of them would fail with duplicate series. Only for targets in no failover group: a member's traffic can go to
        // its backup, so its fast burn is a ticket (below), and LLMProbeFailoverGroupDown pages when
        // no member is left.
        {
          alert: "LLMProbeErrorBudgetBurn",
          expr: (|||
            (
              (
                  llm_probe:probe_outage_ratio:rate1h / on () group_left () (1 - max(llm_probe:slo_objective:ratio)) > %(pageBurnRateFast)s
                and
                  llm_probe:probe_outage_ratio:rate5m / on () group_left () (1 - max(llm_probe:slo_objective:ratio)) > %(pageBurnRateFast)s
                and
                  llm_probe:probe_outages:increase1h >= %(sloMinFailures)s
              )
              or
              (
                  llm_probe:probe_outage_ratio:rate6h / on () group_left () (1 - max(llm_probe:slo_objective:ratio)) > %(pageBurnRateSlow)s
                and
                  llm_probe:probe_outage_ratio:rate30m / on () group_left () (1 - max(llm_probe:slo_objective:ratio)) > %(pageBurnRateSlow)s
                and
                  llm_probe:probe_outages:increase6h >= %(sloMinFailures)s
              )
            )
            and llm_probe_success
            unless on (job, instance, %(clusterLabel)s, %(regionLabel)s, target) llm_probe_group_member
          ||| % $._config),
          'for': "2m",
          labels: {
            severity: "critical",
          },
          annotations: {
            summary: "An LLM probe burns its availability error budget fast.",
            description: "{{ $labels.target }}/{{ $labels.probe }}{{ with $labels.model }} ({{ . }}){{ end }} burns its error budget {{ $value | humanize }}x faster than the {{ with query \"max(llm_probe:slo_objective:ratio)\" }}{{ . | first | value | humanizePercentage }}{{ end }} objective allows (page: %(pageBurnRateFast)sx over 1h and 5m, or %(pageBurnRateSlow)sx over 6h and 30m)." % $._config,
            runbook_url: $.runbookURL('LLMProbeErrorBudgetBurn'),
            since: "{{ with printf \"llm_probe_last_success_timestamp_seconds{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q} > 0\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }}{{ . | first | value | humanizeTimestamp }}{{ with printf \"time() - llm_probe_last_success_timestamp_seconds{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q}\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }} ({{ . | first | value | humanizeDuration }} ago){{ end }}{{ else }}never since the exporter started{{ end }}" % $._config,
            class: "{{ with printf \"llm_probe_status{job=%%q,instance=%%q,%(clusterLabel)s=%%q,%(regionLabel)s=%%q,target=%%q,probe=%%q,model=%%q} == 1\" $labels.job $labels.instance $labels.%(clusterLabel)s $labels.%(regionLabel)s $labels.target $labels.probe $labels.model | query }}{{ . | first | label \"status\" }}{{ else }}unknown{{ end }}" % $._config,
            where: "{{ with or $labels.%(regionLabel)s $externalLabels.%(regionLabel)s }}%(regionLabel)s {{ . }}{{ else }}no %(regionLabel)s label{{ end }}{{ with or $labels.%(clusterLabel)s $externalLabels.%(clusterLabel)s }}, %(clusterLabel)s {{ . }}{{ end }}, exporter {{ $labels.instance }}" % $._config,
            dashboard_url: "%(grafanaURL)s/d/llm-probe-detail/llm-probe-detail?var-job={{ $labels.job }}&var-instance={{ $labels.instance }}&var-target={{ $labels.target }}&var-probe={{ $labels.probe }}" % $._config,
          },
        },
        // Ticket: 3x over 1d and 2h (10 % of the budget in a day), or 1x over 3d and 6h (10 % in
        // three days), every class but UP, at least 3 errors in the short window (so in the long one). When the page fires too, Alertmanager inhibits this one.
        {
          alert: "LLMProbeErrorBudgetBurn",
          expr: (|||
            (
              (
                  llm_probe:probe_error_ratio:rate1d / on () group_left () (1 - max(llm_probe:slo_objective:ratio)) > %(ticketBurnRateFast)s
                and
                  llm_probe:probe_error_ratio:rate2h / on () group_left () (1 - max(llm_probe:slo_objective:ratio)) > %(ticketBurnRateFast)s
                and
                  llm_probe:probe_errors:increase2h >= %(sloMinFailures)s
              )
              or
              (
                  llm_probe:probe_error_ratio:rate3d / on () group_left () (1 - max(llm_probe:slo_objective:ratio)) > %(ticketBurnRateSlow)s
                and
                  llm_probe:probe_error_ratio:rate6h / on () group_left () (1 - max(llm_probe:slo_objective:ratio)) > %(ticketBurnRateSlow)s
                and
                  llm_probe:probe_errors:increase6h >= %(sloMinFailures)s
              )
            )
            and llm_probe_success
          ||| % $._config),
          'for': "15m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "An LLM probe burns its availability error budget.",
            description: "{{ $labels.target }}/{{ $labels.probe }}{{ with $labels.model }} ({{ . }}){{ end }} burns its error budget {{ $value | humanize }}x faster than the {{ with query \"max(llm_probe:slo_objective:ratio)\" }}{{ . | first | value | humanizePercentage }}{{ end }} objective allows (ticket: %(ticketBurnRateFast)sx over 1d and 2h, or %(ticketBurnRateSlow)sx over 3d and 6h)." % $._config,
            runbook_url: $.runbookURL('LLMProbeErrorBudgetBurn'),
          },
        },
      ],
    },
    // ---------------------------------------------------------------------------------------------
    // Certificates and cost.
    {
      name: "llm-probe-certificates-and-cost",
      rules: [
        // Value: seconds left. A timestamp of 0 (no certificate seen, plain HTTP) is ignored.
        {
          alert: "LLMProbeCertificateExpiring",
          expr: (|||
            llm_probe_tls_cert_expiry_timestamp_seconds - time() < %(certExpiryWarningDays)s * 86400
            and
            llm_probe_tls_cert_expiry_timestamp_seconds > 0
          ||| % $._config),
          'for': "15m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "The TLS certificate of an LLM API expires soon.",
            description: "The TLS certificate of {{ $labels.target }} expires in {{ $value | humanizeDuration }} (less than %(certExpiryWarningDays)s days)." % $._config,
            runbook_url: $.runbookURL('LLMProbeCertificateExpiring'),
          },
        },
        {
          alert: "LLMProbeCertificateExpiring",
          expr: (|||
            llm_probe_tls_cert_expiry_timestamp_seconds - time() < %(certExpiryCriticalDays)s * 86400
            and
            llm_probe_tls_cert_expiry_timestamp_seconds > 0
          ||| % $._config),
          'for': "15m",
          labels: {
            severity: "critical",
          },
          annotations: {
            summary: "The TLS certificate of an LLM API expires in less than %(certExpiryCriticalDays)s days." % $._config,
            description: "The TLS certificate of {{ $labels.target }} expires in {{ $value | humanizeDuration }} (less than %(certExpiryCriticalDays)s days)." % $._config,
            runbook_url: $.runbookURL('LLMProbeCertificateExpiring'),
          },
        },
        // Spend of all probes of a target over the last 24 hours. 5 USD is the alert figure; the
        // exporter's own guard is budget.max_usd_per_day per target (see LLMProbeBudgetExhausted).
        {
          alert: "LLMProbeCostHigh",
          expr: (|||
            sum without (probe, model) (increase(llm_probe_cost_usd_total[1d])) > %(costUSDPerDay)s
              and on (job, instance, %(clusterLabel)s, %(regionLabel)s, target) llm_probe_success
          ||| % $._config),
          'for': "15m",
          labels: {
            severity: "warning",
          },
          annotations: {
            summary: "LLM probes cost more than planned.",
            description: "The probes of {{ $labels.target }} cost {{ $value | humanize }} USD over the last 24 hours, above the %(costUSDPerDay)s USD per day alert figure." % $._config,
            runbook_url: $.runbookURL('LLMProbeCostHigh'),
          },
        },
      ],
    },

    ],
  },
}

// The llm_probe_exporter monitoring mixin: _config (config.libsonnet), prometheusRules
// (rules.libsonnet), prometheusAlerts (alerts.libsonnet) and grafanaDashboards (dashboards.libsonnet).
(import 'config.libsonnet') +
(import 'rules.libsonnet') +
(import 'alerts.libsonnet') +
(import 'dashboards.libsonnet')

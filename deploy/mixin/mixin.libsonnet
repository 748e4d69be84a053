// The llm_probe_exporter monitoring mixin: _config (config.libsonnet), prometheusRules
// (rules.libsonnet) and prometheusAlerts (alerts.libsonnet).
(import 'config.libsonnet') +
(import 'rules.libsonnet') +
(import 'alerts.libsonnet')

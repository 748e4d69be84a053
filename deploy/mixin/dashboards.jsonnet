// Renders grafana/dashboards/*.json: jsonnet -J deploy/mixin -S -m OUTDIR dashboards.jsonnet
local mixin = import 'mixin.libsonnet';
{ [name]: std.manifestJsonEx(mixin.grafanaDashboards[name], '  ') + '\n' for name in std.objectFields(mixin.grafanaDashboards) }

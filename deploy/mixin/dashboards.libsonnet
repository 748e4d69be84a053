// grafanaDashboards: the two Grafana dashboards, rendered by deploy/mixin/generate into
// grafana/dashboards/*.json. Their layout lives in dashboards/*.json (edit it there, then run the
// generator); this file applies _config to it: the region/cluster label names in every query,
// legend and column, and the SLO objective and page burn rates in the threshold steps.
// The `job` dashboard variable lists every job that has llm_probe_exporter_build_info, so
// exporterSelector is not applied here (a dashboard must also work across several jobs).
local sources = {
  'llm-probe-overview.json': import 'dashboards/llm-probe-overview.json',
  'llm-probe-detail.json': import 'dashboards/llm-probe-detail.json',
};

{
  grafanaDashboards+:: {
    local c = $._config,
    local labels = { region: c.regionLabel, cluster: c.clusterLabel },
    // PromQL and legend fragments that name the labels (the dashboard variables $region and
    // $cluster keep their names).
    local fragments = [
      [', region=~', ', ' + c.regionLabel + '=~'],
      [', cluster=~', ', ' + c.clusterLabel + '=~'],
      ['cluster, region', c.clusterLabel + ', ' + c.regionLabel],
      ['(region, cluster', '(' + c.regionLabel + ', ' + c.clusterLabel],
      ['{{region}}', '{{' + c.regionLabel + '}}'],
      ['{{cluster}}', '{{' + c.clusterLabel + '}}'],
      ['}, region)', '}, ' + c.regionLabel + ')'],
      ['}, cluster)', '}, ' + c.clusterLabel + ')'],
    ],
    local thresholds = {
      '0.995': c.sloObjective,
      '14.4': c.pageBurnRateFast,
      '6': c.pageBurnRateSlow,
    },
    local rewriteString(s) = std.foldl(function(acc, f) std.strReplace(acc, f[0], f[1]), fragments, s),
    local rewriteStep(step) =
      if std.isObject(step) && std.objectHas(step, 'value') && std.isNumber(step.value)
         && std.objectHas(thresholds, std.toString(step.value))
      then step { value: thresholds[std.toString(step.value)] }
      else step,
    local rewrite(v, key) =
      if std.isString(v) then rewriteString(v)
      else if std.isArray(v) then
        if key == 'steps' then [rewrite(rewriteStep(e), '') for e in v] else [rewrite(e, '') for e in v]
      else if std.isObject(v) then
        // renameByName/indexByName/excludeByName of table transformations are keyed by label.
        { [if key == 'renameByName' || key == 'indexByName' || key == 'excludeByName' then std.get(labels, k, k) else k]: rewrite(v[k], k) for k in std.objectFields(v) }
      else v,
    [name]: rewrite(sources[name], '') for name in std.objectFields(sources)
  },
}

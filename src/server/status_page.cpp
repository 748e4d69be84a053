// A single self-contained page: no scripts, no external assets, readable on a phone. It renders
// the /api/v1/targets document and nothing else, so the page and the API never disagree.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "views.h"

namespace llm_probe::internal {
namespace {

using nlohmann::json;

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Text(const json& value) {
  if (value.is_string()) return Escape(value.get<std::string>());
  if (value.is_null()) return "–";
  return Escape(value.dump());
}

std::string Percent(const json& ratio) {
  if (!ratio.is_number()) return "–";
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", ratio.get<double>() * 100);
  return text;
}

std::string Millis(const json& seconds) {
  if (!seconds.is_number()) return "–";
  char text[24];
  std::snprintf(text, sizeof text, "%.0f ms", seconds.get<double>() * 1000);
  return text;
}

std::string UtcTime(double unix_time) {
  const auto seconds = static_cast<std::time_t>(unix_time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

// "12s ago", "3m ago", "5h ago", "2d ago": how stale a result is, at a glance.
std::string Age(double now, double then) {
  const double seconds = std::max(0.0, now - then);
  struct Unit {
    double seconds;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{86400, "d"}, {3600, "h"}, {60, "m"}};
  for (const Unit& unit : kUnits) {
    if (seconds >= unit.seconds) return std::to_string(static_cast<long>(seconds / unit.seconds)) + unit.suffix + " ago";
  }
  return std::to_string(static_cast<long>(seconds)) + "s ago";
}

// A time with its age; the exact time shows on hover.
std::string When(double now, const json& unix_time) {
  if (!unix_time.is_number()) return "–";
  const double then = unix_time.get<double>();
  return "<span title=\"" + UtcTime(then) + "\">" + Age(now, then) + "</span>";
}

// Capacity trouble (throttling, overload) is amber; every other failure is red.
const char* ClassTone(std::string_view status) {
  if (status == "UP") return "up";
  if (status == "RATE_LIMITED" || status == "OVERLOADED") return "warn";
  return "down";
}

std::string ClassBadge(const std::string& status) {
  return std::string("<span class=\"badge ") + ClassTone(status) + "\">" + Escape(status) + "</span>";
}

std::string HistoryStrip(const json& history) {
  const std::size_t shown = std::min(history.size(), kHistoryStripLength);
  std::string strip = "<span class=strip role=img aria-label=\"last " + std::to_string(shown) + " results\">";
  for (std::size_t i = history.size() - shown; i < history.size(); ++i) {
    const json& entry = history[i];
    const std::string status = entry.value("status", "");
    strip += std::string("<i class=") + ClassTone(status) + " title=\"" + Escape(status) + " · " +
             UtcTime(entry.value("time", 0.0)) + " · " + Millis(entry["duration_seconds"]) + "\"></i>";
  }
  return strip + "</span>";
}

// On a phone a row becomes a two-column card; a wide cell takes a whole line of it.
std::string Cell(const char* label, const std::string& html, bool wide = false) {
  return std::string("<td") + (wide ? " class=wide" : "") + " data-label=\"" + label + "\">" + html + "</td>";
}

std::string StateCell(const json& probe) {
  if (probe.value("healthy", true)) return "<span class=ok>healthy</span>";
  const int failures = probe.value("consecutive_failures", 0);
  return "<span class=bad>unhealthy</span><div class=sub>" + std::to_string(failures) +
         (failures == 1 ? " failure" : " failures") + " in a row</div>";
}

std::string LastResultCell(double now, const json& probe) {
  const json& last = probe["last_result"];
  if (!last.is_object()) return "<span class=sub>not run yet</span>";
  std::string html = ClassBadge(last.value("status", ""));
  const int http_status = last.value("http_status", 0);
  if (http_status != 0) html += " <span class=\"sub nowrap\">HTTP " + std::to_string(http_status) + "</span>";
  return html + "<div class=sub>" + When(now, probe["last_run"]) + " · " + Millis(last["duration_seconds"]) + "</div>";
}

// The latest failure from the failure ring, which outlives a long healthy run; its detail is
// known only while it is also the last result.
std::string LastErrorCell(double now, const json& probe) {
  const json& failures = probe["recent_failures"];
  if (failures.empty()) return "–";
  const json& failure = failures.back();
  std::string html = ClassBadge(failure.value("status", "")) + " <span class=sub>" + When(now, failure["time"]) + "</span>";
  const json& last = probe["last_result"];
  if (last.is_object() && last.value("status", "UP") != "UP" && !last.value("detail", "").empty()) {
    html += "<div class=detail>" + Text(last["detail"]) + "</div>";
  }
  return html;
}

struct Failure {
  double time;
  std::string target;
  std::string probe;
  std::string status;
};

std::vector<Failure> RecentFailures(const json& probes) {
  std::vector<Failure> failures;
  for (const auto& probe : probes) {
    for (const auto& entry : probe["recent_failures"]) {
      failures.push_back({entry.value("time", 0.0), probe.value("target", ""), probe.value("probe", ""),
                          entry.value("status", "")});
    }
  }
  std::sort(failures.begin(), failures.end(), [](const Failure& a, const Failure& b) { return a.time > b.time; });
  if (failures.size() > kRecentFailuresShown) failures.resize(kRecentFailuresShown);
  return failures;
}

constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:0;padding:1em;color:#1f1f1f;background:#f6f7f9}
h1{font-size:1.3em;margin:0}h2{font-size:1.1em;margin:1.4em 0 .5em}
header p{margin:.3em 0;color:#555}a{color:#0b57d0}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #e3e5e8}
th,td{padding:.45em .6em;border-bottom:1px solid #eceef1;text-align:left;vertical-align:top}
th{background:#eef0f3;font-weight:600;font-size:.92em}
.ok{color:#137333;font-weight:600}.bad{color:#b3261e;font-weight:600}
.sub{color:#5f6368;font-size:.88em}
.badge{display:inline-block;padding:0 .45em;border-radius:3px;font-size:.85em;font-weight:600;color:#fff}
.badge.up{background:#1e8e3e}.badge.warn{background:#e37400}.badge.down{background:#c5221f}
.strip{display:inline-flex;align-items:flex-end;height:16px}
.strip i{display:inline-block;width:4px;height:16px;margin-right:1px;border-radius:1px}
.strip i.up{background:#34a853}.strip i.warn{background:#f29900}.strip i.down{background:#d93025}
.detail{color:#444;font-size:.88em;max-width:32em;overflow-wrap:anywhere;white-space:pre-wrap;margin-top:.2em}
.error{background:#fce8e6;border:1px solid #d93025;padding:.6em .8em;margin:.8em 0;overflow-wrap:anywhere}
.summary{font-weight:600}.nowrap,td[data-label=p50],td[data-label=Availability]{white-space:nowrap}
@media (max-width:700px){body{padding:.6em}table,thead,tbody,th,td{display:block}thead{display:none}
table{border:0;background:none}tr{display:grid;grid-template-columns:1fr 1fr;margin-bottom:.6em;background:#fff;
border:1px solid #e3e5e8;border-radius:4px;padding:.2em 0}td{border:0;padding:.2em .6em}td.wide{grid-column:1/-1}
td[data-label]:before{content:attr(data-label);display:block;font-size:.78em;color:#5f6368}}
)";

// Links relative to the page, so they keep working behind a reverse proxy's path prefix.
std::string Header(const json& document, std::size_t healthy, std::size_t total, const std::string& telemetry_path) {
  const double now = document.value("time", 0.0);
  const json& config = document["config"];
  std::string html = "<header><h1>llm_probe_exporter</h1><p class=summary>" + std::to_string(healthy) + " of " +
                     std::to_string(total) + " probes healthy</p><p>Configuration loaded " +
                     When(now, config["last_reload_success"]) + " · page made " + UtcTime(now) +
                     ", refreshes every 15 s · <a href=\"" + Escape(telemetry_path.substr(1)) + "\">metrics</a> · "
                     "<a href=\"api/v1/targets\">JSON API</a></p></header>";
  if (!config.value("reload_successful", true)) {
    html += "<div class=error><b>The last configuration reload failed</b>; the previous configuration keeps "
            "running.<div class=detail>" + Text(config["last_error"]) + "</div></div>";
  }
  return html;
}

std::string GroupsTable(const json& groups) {
  if (groups.empty()) return "";
  std::string html = "<h2>Failover groups</h2><table><thead><tr><th>Group</th><th>Healthy targets</th>"
                     "<th>Best first</th></tr></thead><tbody>";
  for (const auto& group : groups) {
    const int healthy = group.value("healthy_targets", 0);
    std::string members;
    for (const auto& member : group["healthy_members"]) members += (members.empty() ? "" : ", ") + Text(member);
    html += "<tr>" + Cell("Group", Text(group["name"])) +
            Cell("Healthy targets", std::string("<span class=") + (healthy > 0 ? "ok" : "bad") + ">" +
                                        std::to_string(healthy) + " of " + std::to_string(group.value("targets", 0)) +
                                        "</span>") +
            Cell("Best first", members.empty() ? "<span class=bad>none</span>" : members, true) + "</tr>";
  }
  return html + "</tbody></table><p>Best first: healthy members only, the highest availability over the "
                "window first, then the lowest median latency.</p>";
}

std::string ProbesTable(double now, const std::vector<const json*>& probes) {
  std::string html = "<h2>Probes</h2><table><thead><tr><th>Target / probe</th><th>State</th><th>Last result</th>"
                     "<th>Availability</th><th>p50</th><th>Last error</th><th>History</th></tr></thead><tbody>";
  for (const json* probe_pointer : probes) {
    const json& probe = *probe_pointer;
    // "chat · openai/responses · gpt-4o": what the probe asks, of which API, for which model.
    std::string name = "<b>" + Text(probe["target"]) + "</b> / " + Text(probe["probe"]) + "<div class=sub>" +
                       Text(probe["type"]) + " · " + Text(probe["provider"]);
    if (probe["api"].is_string()) name += "/" + Text(probe["api"]);
    if (!probe.value("model", "").empty()) name += " · " + Text(probe["model"]);
    name += "</div>";
    html += "<tr>" + Cell("Probe", name, true) + Cell("State", StateCell(probe)) +
            Cell("Last result", LastResultCell(now, probe)) + Cell("Availability", Percent(probe["availability"])) +
            Cell("p50", Millis(probe["median_duration_seconds"])) + Cell("Last error", LastErrorCell(now, probe), true) +
            Cell("History", HistoryStrip(probe["history"]), true) + "</tr>";
  }
  return html + "</tbody></table>";
}

std::string FailuresTable(double now, const json& probes) {
  const std::vector<Failure> failures = RecentFailures(probes);
  if (failures.empty()) return "";
  std::string html = "<h2>Recent failures</h2><table><thead><tr><th>Target / probe</th><th>When</th><th>Result</th>"
                     "</tr></thead><tbody>";
  for (const Failure& failure : failures) {
    html += "<tr>" + Cell("Probe", "<b>" + Escape(failure.target) + "</b> / " + Escape(failure.probe), true) +
            Cell("When", When(now, failure.time) + " <span class=sub>" + UtcTime(failure.time) + "</span>") +
            Cell("Result", ClassBadge(failure.status)) + "</tr>";
  }
  return html + "</tbody></table>";
}

}  // namespace

std::string StatusPage(const json& document, const std::string& telemetry_path) {
  const double now = document.value("time", 0.0);
  // Unhealthy probes first, each part in config order: on a phone, trouble is at the top.
  std::vector<const json*> probes;
  for (const auto& probe : document["probes"]) probes.push_back(&probe);
  const auto healthy_begin = std::stable_partition(probes.begin(), probes.end(),
                                                   [](const json* probe) { return !probe->value("healthy", true); });
  const auto healthy = static_cast<std::size_t>(probes.end() - healthy_begin);

  std::string page =
      "<!doctype html><html lang=en><head><meta charset=utf-8>"
      "<meta name=viewport content=\"width=device-width,initial-scale=1\">"
      "<meta http-equiv=refresh content=15><title>llm_probe_exporter: " +
      std::to_string(healthy) + " of " + std::to_string(probes.size()) + " healthy</title><style>";
  page += kStyle;
  page += "</style></head><body>";
  page += Header(document, healthy, probes.size(), telemetry_path);
  page += GroupsTable(document["groups"]);
  page += ProbesTable(now, probes);
  page += FailuresTable(now, document["probes"]);
  page += "</body></html>\n";
  return page;
}

}  // namespace llm_probe::internal

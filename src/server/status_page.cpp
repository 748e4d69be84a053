// A single self-contained page: no scripts, no external assets, readable on a phone.
#include <cmath>
#include <cstdio>
#include <string>

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

std::string HistoryStrip(const json& history) {
  std::string strip = "<span class=strip>";
  for (const auto& entry : history) {
    const std::string status = entry.value("status", "");
    strip += "<i class=\"" + std::string(status == "UP" ? "up" : "down") + "\" title=\"" +
             Escape(status) + "\"></i>";
  }
  return strip + "</span>";
}

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:1em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:0 0 .5em}h2{font-size:1.1em;margin:1.2em 0 .4em}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:.35em .5em;border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top}
th{background:#f0f0f0;font-weight:600}
.ok{color:#0a7a2f;font-weight:600}.bad{color:#b3261e;font-weight:600}
.strip i{display:inline-block;width:4px;height:14px;margin-right:1px}
.strip i.up{background:#3aa757}.strip i.down{background:#d93025}
.detail{color:#555;font-size:.9em;max-width:28em;overflow-wrap:anywhere}
.error{background:#fdecea;border:1px solid #d93025;padding:.5em;margin:.5em 0}
@media (max-width:700px){table,thead,tbody,tr,th,td{display:block}thead{display:none}
tr{margin-bottom:.8em;border:1px solid #ddd}td{border:0}td[data-label]:before{content:attr(data-label) ": ";font-weight:600}}
)";

std::string Cell(const char* label, const std::string& html) {
  return std::string("<td data-label=\"") + label + "\">" + html + "</td>";
}

}  // namespace

std::string StatusPage(const json& document) {
  std::string page =
      "<!doctype html><html lang=en><head><meta charset=utf-8>"
      "<meta name=viewport content=\"width=device-width,initial-scale=1\">"
      "<meta http-equiv=refresh content=15><title>llm_probe_exporter</title><style>";
  page += kStyle;
  page += "</style></head><body><h1>llm_probe_exporter</h1>"
          "<p><a href=\"/metrics\">Metrics</a> · <a href=\"/api/v1/targets\">JSON API</a></p>";
  const json& config = document["config"];
  if (!config.value("reload_successful", true)) {
    page += "<div class=error>The last configuration reload failed; the previous configuration "
            "keeps running: " + Text(config["last_error"]) + "</div>";
  }
  if (!document["groups"].empty()) {
    page += "<h2>Failover groups</h2><table><thead><tr><th>Group</th><th>Healthy</th>"
            "<th>Best first</th></tr></thead><tbody>";
    for (const auto& group : document["groups"]) {
      const int healthy = group.value("healthy_targets", 0);
      std::string members;
      for (const auto& member : group["healthy_members"]) members += (members.empty() ? "" : ", ") + Text(member);
      page += "<tr>" + Cell("Group", Text(group["name"])) +
              Cell("Healthy", std::string("<span class=") + (healthy > 0 ? "ok" : "bad") + ">" +
                                  std::to_string(healthy) + " / " +
                                  std::to_string(group.value("targets", 0)) + "</span>") +
              Cell("Best first", members.empty() ? "none" : members) + "</tr>";
    }
    page += "</tbody></table>";
  }
  page += "<h2>Probes</h2><table><thead><tr><th>Target</th><th>Probe</th><th>Model</th>"
          "<th>State</th><th>Last</th><th>Availability</th><th>p50</th><th>Last error</th>"
          "<th>History</th></tr></thead><tbody>";
  for (const auto& probe : document["probes"]) {
    const bool healthy = probe.value("healthy", true);
    const json& last = probe["last_result"];
    const std::string status = last.is_object() ? last.value("status", "") : "";
    std::string last_error = "–";
    if (!probe["recent_failures"].empty()) {
      last_error = Text(probe["recent_failures"].back()["status"]);
      if (last.is_object() && status != "UP") last_error += "<div class=detail>" + Text(last["detail"]) + "</div>";
    }
    page += "<tr>" + Cell("Target", Text(probe["target"])) + Cell("Probe", Text(probe["probe"])) +
            Cell("Model", Text(probe["model"])) +
            Cell("State", std::string("<span class=") + (healthy ? "ok>healthy" : "bad>unhealthy") +
                              "</span>") +
            Cell("Last", status.empty() ? "not run yet" : Escape(status)) +
            Cell("Availability", Percent(probe["availability"])) +
            Cell("p50", Millis(probe["median_duration_seconds"])) + Cell("Last error", last_error) +
            Cell("History", HistoryStrip(probe["history"])) + "</tr>";
  }
  page += "</tbody></table></body></html>\n";
  return page;
}

}  // namespace llm_probe::internal

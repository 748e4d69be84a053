// Internal to the server module: the JSON API documents and the HTML status page, both built
// from one store view, with every upstream-provided text passed through the redactor.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "llm_probe/redact.h"
#include "llm_probe/runner.h"
#include "llm_probe/snapshot.h"

namespace llm_probe::internal {

// Longest excerpt of an upstream text (error detail, body) that the page and API show.
inline constexpr std::size_t kExcerptBytes = 300;

std::string Excerpt(const Redactor& redactor, std::string_view text);

nlohmann::json TargetsDocument(const StoreView& view, const Redactor& redactor, double now_unix);
// Nullopt when no group has that name.
std::optional<nlohmann::json> GroupDocument(const StoreView& view, const std::string& group);
nlohmann::json OnDemandDocument(const OnDemandResult& run, bool debug, const Redactor& redactor);
// The status page renders the targets document, so page and API never disagree.
// `telemetry_path` starts with '/'.
std::string StatusPage(const nlohmann::json& targets_document, const std::string& telemetry_path);

// How many of the latest results the page's history strip shows, so it stays phone-sized.
inline constexpr std::size_t kHistoryStripLength = 50;
// How many failures, newest first, the page lists across all probes.
inline constexpr std::size_t kRecentFailuresShown = 20;

}  // namespace llm_probe::internal

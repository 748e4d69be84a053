// What a probe sends and how its exchanges are read, per API flavour (the provider table) and
// probe kind (models, chat, stream, embeddings). Pure: no I/O, time passed in.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "llm_probe/exchange.h"
#include "llm_probe/redact.h"
#include "llm_probe/result.h"
#include "llm_probe/target.h"

namespace llm_probe {

// The probe's request as far as it stays the same from run to run: built once per config.
HttpRequest BuildProbeRequest(const TargetConfig& target, const ProbeConfig& probe);
// The request one run sends, for a provider whose request is signed or refreshed per run
// (Provider::RequestIsPerRun): `built`, completed for now_unix. Nullopt when `built` goes as is.
std::optional<HttpRequest> CompleteRequestForRun(const TargetConfig& target, const HttpRequest& built,
                                                 double now_unix);

// Classifies the exchange and extracts everything the metrics need. Never throws: a reply of
// any shape gets a class. Upstream text kept in the result (the detail, the served model) is
// redacted with `redactor` before it is cut, so no part of a secret survives the cut; pass the
// redactor of the config the request was built from, as a later config may no longer know its key.
ProbeResult InterpretExchange(const TargetConfig& target, const ProbeConfig& probe,
                              const HttpExchange& exchange, double now_unix,
                              const Redactor& redactor = Redactor());

// A run whose reply comes in pages (Gemini's models.list: a page ends with nextPageToken while
// more follow) reads at most this many; with 1000 models a page, that is far more than any list.
inline constexpr std::size_t kMaxListPages = 20;

// The request for the page after `page` (built from `first`, the run's first request before
// CompleteRequestForRun), or nullopt when `page` ends the run: it failed, it names no next page,
// it is page kMaxListPages (`pages_read` counts it), or the provider's lists come whole.
std::optional<HttpRequest> NextPageRequest(const TargetConfig& target, const ProbeConfig& probe,
                                           const HttpRequest& first, const HttpExchange& page,
                                           std::size_t pages_read);

// InterpretExchange over the exchanges of one run, in order (at least one; after the first, the
// pages NextPageRequest asked for): the first that failed decides as it would alone; otherwise
// expect_models is judged on every page's models together. Duration and phase timings are
// summed over the run, so its latency is the whole walk; status and headers are the last page's.
ProbeResult InterpretExchanges(const TargetConfig& target, const ProbeConfig& probe,
                               std::span<const HttpExchange> exchanges, double now_unix,
                               const Redactor& redactor = Redactor());

}  // namespace llm_probe

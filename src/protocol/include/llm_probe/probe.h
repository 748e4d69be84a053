// What a probe sends and how its exchange is read, per API flavour (openai, anthropic, azure)
// and probe kind (models, chat, stream, embeddings). Pure: no I/O, time passed in.
#pragma once

#include <optional>

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

}  // namespace llm_probe

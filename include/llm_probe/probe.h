// What a probe sends and how its exchange is read, per API flavour (openai, anthropic, azure)
// and probe kind (models, chat, stream, embeddings). Pure: no I/O, time passed in.
#pragma once

#include "llm_probe/config.h"
#include "llm_probe/exchange.h"
#include "llm_probe/redact.h"
#include "llm_probe/result.h"

namespace llm_probe {

HttpRequest BuildProbeRequest(const TargetConfig& target, const ProbeConfig& probe);

// Classifies the exchange and extracts everything the metrics need. Never throws: a reply of
// any shape gets a class. Upstream text kept in the result (the detail, the served model) is
// redacted with `redactor` before it is cut, so no part of a secret survives the cut; pass the
// redactor of the config the request was built from, as a later config may no longer know its key.
ProbeResult InterpretExchange(const TargetConfig& target, const ProbeConfig& probe,
                              const HttpExchange& exchange, double now_unix,
                              const Redactor& redactor = Redactor());

}  // namespace llm_probe

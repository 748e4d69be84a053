// What a probe sends and how its exchange is read, per API flavour (openai, anthropic, azure)
// and probe kind (models, chat, stream, embeddings). Pure: no I/O, time passed in.
#pragma once

#include "llm_probe/config.h"
#include "llm_probe/exchange.h"
#include "llm_probe/result.h"

namespace llm_probe {

HttpRequest BuildProbeRequest(const TargetConfig& target, const ProbeConfig& probe);

// Classifies the exchange and extracts everything the metrics need. Never throws: a reply of
// any shape gets a class.
ProbeResult InterpretExchange(const TargetConfig& target, const ProbeConfig& probe,
                              const HttpExchange& exchange, double now_unix);

}  // namespace llm_probe

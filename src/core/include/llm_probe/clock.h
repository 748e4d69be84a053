// The wall clock in unix seconds: the time of a document, of a config load, of a probe result.
// Pure code takes the time as an argument; only the edges (the runner's default clock, the HTTP
// handlers, the app) read it here.
#pragma once

namespace llm_probe {

double NowUnix();

}  // namespace llm_probe

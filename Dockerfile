# llm_probe_exporter container image.
#
#   docker build -t llm-probe-exporter:0.1.0 .                           # the exporter (last stage)
#   docker build --target mock-upstream -t llm-probe-mock-upstream .      # the demo's fake API
#   docker run --rm -p 127.0.0.1:9835:9835 \
#     -v "$PWD/config.yaml:/etc/llm_probe_exporter/config.yaml:ro" llm-probe-exporter:0.1.0
#
# Stage 1 builds with Debian bookworm's own packages (no downloads beyond apt, as in CI).
# Stage 2 is bookworm-slim with only the shared libraries the binaries load (RUNTIME_PACKAGES)
# and ca-certificates, running as the numeric non-root user 65532:65532 (no entry in
# /etc/passwd needed; Kubernetes runAsNonRoot can verify a numeric USER).
#
# There is no docker engine in CI: tests/rootfs/rootfs_test.sh builds the same runtime file set
# (mmdebstrap bookworm + RUNTIME_PACKAGES below, which it reads from this file), copies the
# binary in and runs it as uid 65532 on a read-only root, scraping /metrics once.

ARG DEBIAN_IMAGE=debian:bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ------------------------------------------------------------------------------------------------
FROM ${DEBIAN_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config git ca-certificates \
      prometheus-cpp-dev libcurl4-openssl-dev nlohmann-json3-dev libyaml-cpp-dev \
      libcpp-httplib-dev libboost-dev libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The context has no .git (.dockerignore): pass the revision for llm_probe_exporter_build_info,
#   docker build --build-arg REVISION="$(git rev-parse --short=12 HEAD)" .
ARG REVISION=unknown
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLM_PROBE_BUILD_TESTS=OFF \
      -DLLM_PROBE_REVISION="${REVISION}" \
 && cmake --build /build --target llm_probe_exporter mock_upstream \
 && install -D -s -m 0755 /build/src/llm_probe_exporter /out/usr/local/bin/llm_probe_exporter \
 && install -D -s -m 0755 /build/tools/mock_upstream/mock_upstream /out/usr/local/bin/mock_upstream \
 && /out/usr/local/bin/llm_probe_exporter --version

# ------------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime-base
# The shared libraries of llm_probe_exporter and mock_upstream (readelf -d: NEEDED), plus
# ca-certificates for HTTPS upstreams. apt pulls their dependencies (libssl3, libstdc++6, ...).
# tests/rootfs/rootfs_test.sh reads this line: keep it one line.
ARG RUNTIME_PACKAGES="ca-certificates libcurl4 libprometheus-cpp-core1.0 libyaml-cpp0.7 libcpp-httplib0.11"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${RUNTIME_PACKAGES} \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && install -d -m 0755 /etc/llm_probe_exporter

# ------------------------------------------------------------------------------------------------
# The mock upstream for the docker-compose demo (deploy/docker-compose.yml).
FROM runtime-base AS mock-upstream
COPY --from=build /out/usr/local/bin/mock_upstream /usr/local/bin/mock_upstream
COPY tools/mock_upstream/demo_scenarios.json /usr/local/share/mock_upstream/demo_scenarios.json
USER 65532:65532
EXPOSE 9836
ENTRYPOINT ["/usr/local/bin/mock_upstream"]
CMD ["--listen", "0.0.0.0:9836", "--scenarios", "/usr/local/share/mock_upstream/demo_scenarios.json"]

# ------------------------------------------------------------------------------------------------
# The exporter: the default target (last stage).
FROM runtime-base AS runtime
LABEL org.opencontainers.image.title="llm_probe_exporter" \
      org.opencontainers.image.description="Prometheus exporter probing AI model APIs"
COPY --from=build /out/usr/local/bin/llm_probe_exporter /usr/local/bin/llm_probe_exporter
USER 65532:65532
EXPOSE 9835
# SIGTERM (docker stop, Kubernetes): the exporter stops scheduling, lets in-flight probes finish
# within their timeout and exits 0. Give it more than the longest probe timeout
# (docker stop -t, terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
# Liveness through the binary itself (the image has no curl or wget): --web.health-check GETs
# /-/healthy on the --web.listen-address it is given (127.0.0.1 for a wildcard address) and
# exits 0 on 200, 1 otherwise. It needs no web config: when the port speaks TLS it asks over
# HTTPS (the certificate is not checked: it is our own, on loopback), and with basic auth on, the
# server's 401 asking for a password counts as alive, as a process that answers is alive. Pass
# the same --web.listen-address as the server if you change it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/llm_probe_exporter", "--web.health-check", "--web.listen-address=:9835"]
ENTRYPOINT ["/usr/local/bin/llm_probe_exporter"]
CMD ["--config.file=/etc/llm_probe_exporter/config.yaml"]

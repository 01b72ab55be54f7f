# syntax=docker/dockerfile:1
#
# photofinishd image. Build from the repository root:
#   docker build -f docker/photofinishd.Dockerfile -t photofinishd .
#
# The build stage uses the project's own recipe (make deps, make, make install),
# exactly as developers and CI do; only the installed binaries and the runtime
# libraries reach the final image.

# scripts/deps needs Node.js >= 20 (it also prepares the test and gallery npm
# packages); Debian bookworm ships 18, so node and npm are taken from the
# official image of the same Debian release.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS node

FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && apt-get update \
 && apt-get install -y --no-install-recommends make ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make deps \
 && make -j"$(nproc)" \
 && make install PREFIX=/usr/local DESTDIR=/out

FROM debian:bookworm-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# Exactly the shared libraries photofinishd links (pkg-config: libevent,
# libevent_pthreads, libcurl, openssl, vips, zbar, jansson, libuv, expat), the CA
# bundle for TLS to AWS, and curl for the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libevent-2.1-7 libevent-pthreads-2.1-7 libcurl4 libssl3 libvips42 libzbar0 \
      libjansson4 libuv1 libexpat1 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 photofinish \
 && useradd --system --uid 10001 --gid photofinish --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin photofinish
COPY --from=build /out/usr/local/bin/ /usr/local/bin/
# Fail the build, not the first deployment, when a runtime library is missing.
RUN if ldd /usr/local/bin/photofinishd /usr/local/bin/photofinish | grep 'not found'; then exit 1; fi

# glibc creates one malloc arena per thread; with libvips worker threads that
# fragments memory badly. Two arenas is the setting libvips recommends.
ENV MALLOC_ARENA_MAX=2

USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/photofinishd"]

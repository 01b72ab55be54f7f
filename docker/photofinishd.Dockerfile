# photofinishd image. Build from the repository root:
#   docker build -f docker/photofinishd.Dockerfile -t photofinishd .
# (`make images` does this with docker or podman, tagged with VERSION and the
# git commit; see docker/README.md.)
#
# build:   the compiler and -dev packages of scripts/build-deps' build-slim set
#          (nothing for tests), libvips built from Debian's source package with
#          the photo loaders only (scripts/build-vips), then photofinishd and the
#          photofinish tool.
# runtime: Debian slim, the shared libraries those link, the CA bundle and curl
#          (health check): 109 MB, against 240 MB with Debian's libvips42, whose
#          other loaders photofinishd blocks anyway (docs/deploy.md).

FROM debian:bookworm-slim AS build
ENV DEBIAN_FRONTEND=noninteractive
# One layer each, so that the libvips build is redone only when
# scripts/build-deps or scripts/build-vips change, never for the sources.
COPY scripts/build-deps /usr/local/sbin/
RUN build-deps build-slim
COPY scripts/build-vips /usr/local/sbin/
RUN build-vips /usr/local
WORKDIR /src
COPY Makefile VERSION ./
COPY include include
COPY src src
# The console's built files (console/dist, from `npm run build` in console/)
# when present: the pattern matches nothing otherwise, and README.md keeps
# the COPY valid either way.
COPY docker/README.md consol[e]/dis[t] /console/
RUN mkdir -p /out/usr/local/share/photofinish/console \
 && rm /console/README.md \
 && if [ -f /console/index.html ]; then cp -a /console/. /out/usr/local/share/photofinish/console/; fi
RUN make -j"$(nproc)" BUILD=/tmp/build \
 && make install BUILD=/tmp/build PREFIX=/usr/local DESTDIR=/out \
 && strip --strip-unneeded /out/usr/local/bin/* \
 && mkdir -p /out/usr/local/lib \
 && cp -a /usr/local/lib/libvips.so.42* /out/usr/local/lib/ \
 && strip --strip-unneeded /out/usr/local/lib/libvips.so.42.*

FROM debian:bookworm-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# The libraries photofinishd links (libevent, libcurl, OpenSSL, zbar, jansson,
# libuv, expat) and those of the libvips built above (GLib, libjpeg-turbo,
# libpng, libwebp, libtiff, libexif, lcms2, orc), the CA bundle for TLS to AWS,
# and curl for the health check.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      libevent-2.1-7 libevent-pthreads-2.1-7 libcurl4 libssl3 libzbar0 libjansson4 libuv1 \
      libexpat1 libglib2.0-0 libjpeg62-turbo libpng16-16 libwebp7 libwebpmux3 libwebpdemux2 \
      libtiff6 libexif12 liblcms2-2 liborc-0.4-0 ca-certificates curl >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/log/apt/* /var/log/dpkg.log \
 && groupadd --system --gid 10001 photofinish \
 && useradd --system --uid 10001 --gid photofinish --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin photofinish
COPY --from=build /out/usr/local/ /usr/local/
# Fail the build, not the first deployment, when a runtime library is missing.
RUN ldconfig \
 && if ldd /usr/local/bin/photofinishd /usr/local/bin/photofinish | grep 'not found'; then exit 1; fi \
 && photofinishd --version

# glibc creates one malloc arena per thread; with libvips worker threads that
# fragments memory badly. Two arenas is the setting libvips recommends.
ENV MALLOC_ARENA_MAX=2
# The console, served at /console/ (empty when the image was built without
# console/dist: /console/ then answers 404).
ENV PHOTOFINISH_CONSOLE_DIR=/usr/local/share/photofinish/console

# The Terraform task definition (deploy/terraform/ecs.tf) repeats these:
# user 10001, port 8080, the /healthz check, SIGTERM with a 30 s stop timeout
# (the daemon drains within PHOTOFINISH_DRAIN_SECONDS, 25 s), and a read-only
# root filesystem with a writable /tmp. make test-images checks them.
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/photofinishd"]

# photofinish gallery (SvelteKit, adapter-node). Build from the repository root.
#
# Two ways to build, one runtime:
#
#   docker build -f docker/gallery.Dockerfile -t photofinish-gallery .
#       The default target (runtime): npm ci and the SvelteKit build run in
#       the official Node image (NODE_IMAGE), as on any CI with registry access.
#
#   scripts/gallery-bundle && \
#   docker build -f docker/gallery.Dockerfile --target prebuilt -t photofinish-gallery .
#       The prebuilt target copies gallery/bundle/, made on the host by
#       scripts/gallery-bundle (`make images` runs it): the build output, the
#       production node_modules and the node binary that built and tested it.
#       No npm registry is needed inside the build. `make images` uses this one.
#
# Both end in the same stage below `base`: Debian slim, a node binary, the
# server in /app owned by root (read-only to the server), running as uid 10001.
#
# Run:
#   docker run -p 3000:3000 -e PHOTOFINISH_API_URL=http://photofinishd:8080 \
#     -e ORIGIN=https://photos.example.org -e GALLERY_RACE_NAME="Lakeside City Marathon" \
#     --read-only photofinish-gallery
# See docs/gallery.md for every setting.

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY gallery/package.json gallery/package-lock.json ./
RUN npm ci --no-audit --no-fund
# Copy only what the build needs (never a local node_modules or build/).
COPY gallery/svelte.config.js gallery/vite.config.ts gallery/tsconfig.json ./
COPY gallery/src ./src
# The same layout scripts/gallery-bundle makes: bundle/node, bundle/app/.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && mkdir -p /bundle/app \
 && cp -a build package.json node_modules /bundle/app/ \
 && cp /usr/local/bin/node /bundle/node

FROM debian:bookworm-slim AS base
RUN mkdir /app \
 && groupadd --system --gid 10001 gallery \
 && useradd --system --uid 10001 --gid gallery --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin gallery
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
# The Terraform task definition (deploy/terraform/ecs.tf) repeats these: user
# 10001, port 3000, the /healthz check, a read-only root filesystem (the server
# writes nothing). make test-images checks them.
USER 10001:10001
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "build"]

FROM base AS prebuilt
COPY gallery/bundle/node /usr/local/bin/node
COPY gallery/bundle/app/ /app/
RUN node --version

# Last stage: the default target.
FROM base AS runtime
COPY --from=build /bundle/node /usr/local/bin/node
COPY --from=build /bundle/app/ /app/
RUN node --version

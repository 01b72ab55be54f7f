# photofinish gallery (SvelteKit, adapter-node).
# Build from the repository root:
#   docker build -f docker/gallery.Dockerfile -t photofinish-gallery .
# Run:
#   docker run -p 3000:3000 -e PHOTOFINISH_API_URL=http://photofinishd:8080 \
#     -e GALLERY_RACE_NAME="Lakeside City Marathon" photofinish-gallery
# See docs/gallery.md for every setting.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY gallery/package.json gallery/package-lock.json ./
RUN npm ci
# Copy only what the build needs (never a local node_modules or build/).
COPY gallery/svelte.config.js gallery/vite.config.ts gallery/tsconfig.json ./
COPY gallery/src ./src
RUN npm run build

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
# All packages are build-time only: the adapter-node output is self-contained.
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/build ./build
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "build"]

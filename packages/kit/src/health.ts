import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { EventEmitter, on } from "node:events";
import { AppCallbackHealthCheck, HealthCheckResponseSchema as DaprHealthCheckResponseSchema } from "@taskmesh/proto/dapr/proto/runtime/v1/appcallback_pb.js";
import { Health, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus as Status } from "@taskmesh/proto/grpc/health/v1/health_pb.js";

/**
 * Serving state of a process: "" is the whole process (what /readyz and Kubernetes probes ask),
 * other keys are fully-qualified service names.
 */
export class HealthState {
  readonly #status = new Map<string, boolean>([["", false]]);
  readonly #changes = new EventEmitter();

  constructor() {
    this.#changes.setMaxListeners(0);
  }

  set(service: string, serving: boolean): void {
    this.#status.set(service, serving);
    this.#changes.emit("change", service);
  }

  /** Marks the process and every registered service serving or not (start-up, drain). */
  setAll(serving: boolean): void {
    for (const service of this.#status.keys()) this.set(service, serving);
  }

  get ready(): boolean {
    return this.#status.get("") === true;
  }

  status(service: string): Status {
    const serving = this.#status.get(service);
    if (serving === undefined) return Status.SERVICE_UNKNOWN;
    return serving ? Status.SERVING : Status.NOT_SERVING;
  }

  routes(router: ConnectRouter): void {
    router.service(Health, {
      check: (req) => {
        const status = this.status(req.service);
        if (status === Status.SERVICE_UNKNOWN) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
        return create(HealthCheckResponseSchema, { status });
      },
      watch: (req, ctx) => this.#watch(req.service, ctx.signal),
    });
    // Dapr's app health check (gRPC apps): a sidecar holding its shutdown for the app
    // (block-shutdown-duration) shuts down once this fails, so callers' sidecars stop sending
    // calls to a draining app and reconnect to the other replicas.
    router.service(AppCallbackHealthCheck, {
      healthCheck: () => {
        if (!this.ready) throw new ConnectError("not serving (starting or draining)", Code.Unavailable);
        return create(DaprHealthCheckResponseSchema, {});
      },
    });
  }

  async *#watch(service: string, signal: AbortSignal) {
    // Subscribe before reading the current status so that no change falls in between.
    const changes = on(this.#changes, "change", { signal });
    let last = this.status(service);
    yield create(HealthCheckResponseSchema, { status: last });
    try {
      for await (const [changed] of changes) {
        if (changed !== service) continue;
        const next = this.status(service);
        if (next === last) continue;
        last = next;
        yield create(HealthCheckResponseSchema, { status: next });
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }
}

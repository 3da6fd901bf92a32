import { create, isMessage, type DescMessage, type DescMethod, type DescMethodUnary, type MessageShape } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  createHandlerContext,
  createMethodImplSpec,
  createRouterTransport,
  createServiceImplSpec,
  type ConnectRouter,
  type HandlerContext,
  type Interceptor,
  type Transport,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";

type UnaryImpl = (req: unknown, ctx: HandlerContext) => unknown;

interface Registered {
  impl: UnaryImpl;
  interceptors: Interceptor[];
}

const PROTOCOL = "in-process";
// The handler context's signal is aborted once a call is over (as Connect's server does), so that
// work the handler left behind stops; a reason made once spares a DOMException per call.
const FINISHED = new ConnectError("the call has finished", Code.Canceled);

/**
 * A Transport to services mounted in this process that hands message objects to the handlers
 * instead of encoding them to bytes and decoding them again (createRouterTransport sends every call
 * through the Connect protocol in binary: for a page of 50 tasks, a quarter of the app's CPU).
 *
 * Everything else is what the callee sees over the network: `interceptors` around the handler (the
 * router's, or a service's own when it registers with options), a handler context of its own (the
 * caller's headers copied, new context values, the caller's deadline and cancellation), errors as
 * ConnectErrors with their details, DEADLINE_EXCEEDED or CANCELED as soon as the deadline passes or
 * the caller gives up. Streaming calls go through createRouterTransport.
 *
 * Messages are shared, not copied: a handler must not modify its request, nor a caller a response.
 */
export function inProcessTransport(routes: (router: ConnectRouter) => void, options: { interceptors?: Interceptor[] } = {}): Transport {
  const interceptors = options.interceptors ?? [];
  const unary = new Map<string, Registered>();
  const register = (method: DescMethod, impl: unknown, own?: { interceptors?: Interceptor[] }) => {
    if (method.methodKind === "unary") unary.set(pathOf(method), { impl: impl as UnaryImpl, interceptors: own?.interceptors ?? interceptors });
  };
  const collector: ConnectRouter = {
    handlers: [],
    service(service, implementation, own) {
      const spec = createServiceImplSpec(service, implementation);
      for (const method of service.methods) register(method, spec.methods[method.localName]!.impl, own);
      return collector;
    },
    rpc(method, impl, own) {
      register(method, createMethodImplSpec(method, impl).impl, own);
      return collector;
    },
  };
  routes(collector);
  // Made on the first stream: most callers never open one.
  let streams: Transport | undefined;

  return {
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: ConstructorParameters<typeof Headers>[0],
      input: unknown,
    ): Promise<UnaryResponse<I, O>> {
      const registered = unary.get(pathOf(method));
      if (!registered) throw new ConnectError(`${pathOf(method)} is not served in this process`, Code.Unimplemented);
      const url = `${PROTOCOL}://${pathOf(method)}`;
      const context = createHandlerContext({
        service: method.parent,
        method,
        protocolName: PROTOCOL,
        requestMethod: "POST",
        url,
        timeoutMs,
        requestSignal: signal,
        requestHeader: header,
        contextValues: createContextValues(),
      });
      const handler = async (req: UnaryRequest<I, O>): Promise<UnaryResponse<I, O>> => {
        const output = await registered.impl(req.message, { ...context, service: req.service, requestHeader: req.header, signal: req.signal, values: req.contextValues });
        return { stream: false, service: method.parent, method, header: context.responseHeader, trailer: context.responseTrailer, message: asMessage(method.output, output) };
      };
      // The first interceptor is the outermost, as in Connect's router.
      const next = registered.interceptors.reduceRight<(req: UnaryRequest<I, O>) => Promise<UnaryResponse<I, O>>>((n, interceptor) => interceptor(n as never) as never, handler);
      try {
        return await untilAborted(
          context.signal,
          next({
            stream: false,
            service: method.parent,
            method,
            requestMethod: "POST",
            url,
            signal: context.signal,
            header: context.requestHeader,
            contextValues: context.values,
            message: asMessage(method.input, input),
          }),
        );
      } catch (err) {
        throw ConnectError.from(err);
      } finally {
        context.abort(FINISHED);
      }
    },
    stream: (...args) => {
      streams ??= createRouterTransport(routes, { router: { interceptors } });
      return streams.stream(...args);
    },
  };
}

function pathOf(method: DescMethod): string {
  return `${method.parent.typeName}/${method.name}`;
}

function asMessage<T extends DescMessage>(desc: T, value: unknown): MessageShape<T> {
  return isMessage(value, desc) ? value : create(desc, value as never);
}

/** The call's result, or its end as soon as `signal` aborts (deadline: DEADLINE_EXCEEDED; the caller gone: CANCELED). */
function untilAborted<T>(signal: AbortSignal, result: Promise<T>): Promise<T> {
  if (signal.aborted) {
    // The caller is gone (a request the browser cancelled as its user typed on): what the handler
    // ends with is nobody's to read, and left unhandled it would end the process.
    result.catch(() => {});
    return Promise.reject(ConnectError.from(signal.reason, Code.Canceled));
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(ConnectError.from(signal.reason, Code.Canceled));
    signal.addEventListener("abort", onAbort, { once: true });
    result.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

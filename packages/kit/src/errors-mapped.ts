import type { StreamResponse, UnaryResponse } from "@connectrpc/connect";

/**
 * For interceptors that answer errors their own way: the response of `call` (an interceptor's
 * `next(req)`) with every error, whether the call throws it or a stream's messages do while they
 * are read (after the call has returned), replaced by what `map` throws or returns.
 */
export async function errorsMapped<R extends UnaryResponse | StreamResponse>(call: Promise<R>, map: (err: unknown) => unknown): Promise<R> {
  let res: R;
  try {
    res = await call;
  } catch (err) {
    throw map(err);
  }
  if (!res.stream) return res;
  const messages = res.message;
  return {
    ...res,
    message: (async function* () {
      try {
        yield* messages;
      } catch (err) {
        throw map(err);
      }
    })(),
  };
}

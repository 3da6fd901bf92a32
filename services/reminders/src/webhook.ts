import { createHmac } from "node:crypto";

export const SIGNATURE_HEADER = "x-taskmesh-signature";
export const EVENT_ID_HEADER = "x-taskmesh-event-id";

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the secret>` (see README). */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/** POSTs a signed JSON body; resolves on a 2xx answer, throws otherwise (the caller retries). */
export async function postWebhook(url: string, secret: string, eventId: string, payload: unknown, timeoutMs: number): Promise<void> {
  const body = JSON.stringify(payload);
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      [SIGNATURE_HEADER]: signatureHeader(secret, body, Math.floor(Date.now() / 1000)),
      [EVENT_ID_HEADER]: eventId,
    },
    body,
    redirect: "error",
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`);
}

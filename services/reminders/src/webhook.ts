import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { WebhookTargetPolicy, WebhookTargetRefused } from "./webhook-target.js";

export const SIGNATURE_HEADER = "x-taskmesh-signature";
export const EVENT_ID_HEADER = "x-taskmesh-event-id";

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the secret>` (see README). */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * A 3xx answer. Redirects are not followed: the policy checked this URL, not wherever the receiver
 * points next (a public receiver could redirect to the metadata endpoint).
 */
export class WebhookRedirected extends Error {
  constructor(status: number, location: string | undefined) {
    super(`webhook answered HTTP ${status}${location ? ` redirecting to ${location}` : ""}: redirects are not followed, save the final URL`);
    this.name = "WebhookRedirected";
  }
}

/** A failure that retrying the same delivery cannot fix. */
export const isPermanentWebhookError = (err: unknown) => err instanceof WebhookTargetRefused || err instanceof WebhookRedirected;

/**
 * POSTs a signed JSON body to a URL the policy allows; resolves on a 2xx answer, throws otherwise
 * (the caller retries, except after isPermanentWebhookError). The connection's DNS goes through
 * the policy's lookup, so the socket only ever reaches a checked address.
 */
export async function postWebhook(
  url: string,
  secret: string,
  eventId: string,
  payload: unknown,
  timeoutMs: number,
  policy: WebhookTargetPolicy = new WebhookTargetPolicy(),
): Promise<void> {
  const target = policy.checkUrl(url);
  const body = JSON.stringify(payload);
  const transport = target.protocol === "https:" ? https : http;
  await new Promise<void>((resolve, reject) => {
    const request = transport.request(
      target,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          [SIGNATURE_HEADER]: signatureHeader(secret, body, Math.floor(Date.now() / 1000)),
          [EVENT_ID_HEADER]: eventId,
        },
        lookup: policy.lookup,
        // A socket of its own: a pooled one could have been connected by code that did not check.
        agent: false,
      },
      (response) => {
        clearTimeout(timer);
        const status = response.statusCode ?? 0;
        // The body is not read: only the status counts.
        response.destroy();
        if (status >= 200 && status < 300) resolve();
        else if (status >= 300 && status < 400) reject(new WebhookRedirected(status, response.headers.location));
        else reject(new Error(`webhook answered HTTP ${status}`));
      },
    );
    const timer = setTimeout(() => request.destroy(new Error(`webhook did not answer within ${timeoutMs} ms`)), timeoutMs);
    request.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    request.end(body);
  });
}

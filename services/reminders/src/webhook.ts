import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { Webhook } from "standardwebhooks";
import { WebhookTargetPolicy, WebhookTargetRefused } from "./webhook-target.js";

export const SIGNATURE_HEADER = "x-taskmesh-signature";
export const EVENT_ID_HEADER = "x-taskmesh-event-id";

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the secret>` (see README). */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * The Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature: `v1,<base64
 * HMAC-SHA256 of "<id>.<t>.<body>">` keyed by the secret's base64 after `whsec_`), which that
 * spec's libraries verify in any language. None for a secret whose key is not base64 (one made
 * before these headers were sent): rotating it gives one that is.
 */
export function standardWebhookHeaders(secret: string, id: string, body: string, unixSeconds: number): Record<string, string> {
  let signer: Webhook;
  try {
    signer = new Webhook(secret);
  } catch {
    return {};
  }
  return { "webhook-id": id, "webhook-timestamp": String(unixSeconds), "webhook-signature": signer.sign(id, new Date(unixSeconds * 1000), body) };
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
 * (the caller retries, except after isPermanentWebhookError).
 */
export async function postWebhook(url: string, secret: string, eventId: string, payload: unknown, timeoutMs: number, policy: WebhookTargetPolicy = new WebhookTargetPolicy()): Promise<void> {
  const body = JSON.stringify(payload);
  const now = Math.floor(Date.now() / 1000);
  const headers = {
    "content-type": "application/json",
    [SIGNATURE_HEADER]: signatureHeader(secret, body, now),
    [EVENT_ID_HEADER]: eventId,
    ...standardWebhookHeaders(secret, eventId, body, now),
  };
  const status = await postToTarget(url, headers, Buffer.from(body), timeoutMs, policy);
  if (status < 200 || status >= 300) throw new Error(`webhook answered HTTP ${status}`);
}

/**
 * POSTs a body to a user-supplied URL the policy allows and answers the HTTP status (3xx throws
 * WebhookRedirected: redirects are not followed). The connection's DNS goes through the policy's
 * lookup, so the socket only ever reaches a checked address. Webhooks and Web Push both send here.
 */
export async function postToTarget(url: string, headers: Record<string, string>, body: Buffer, timeoutMs: number, policy: WebhookTargetPolicy): Promise<number> {
  const target = policy.checkUrl(url);
  const transport = target.protocol === "https:" ? https : http;
  return new Promise<number>((resolve, reject) => {
    const request = transport.request(
      target,
      {
        method: "POST",
        headers: { ...headers, "content-length": body.length },
        lookup: policy.lookup,
        // A socket of its own: a pooled one could have been connected by code that did not check.
        agent: false,
      },
      (response) => {
        clearTimeout(timer);
        const status = response.statusCode ?? 0;
        // The body is not read: only the status counts.
        response.destroy();
        if (status >= 300 && status < 400) reject(new WebhookRedirected(status, response.headers.location));
        else resolve(status);
      },
    );
    const timer = setTimeout(() => request.destroy(new Error(`${target.host} did not answer within ${timeoutMs} ms`)), timeoutMs);
    request.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    request.end(body);
  });
}

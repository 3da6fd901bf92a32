// Web Push (RFC 8030) of fired reminders to the browsers that subscribed: the payload encrypted for
// each subscription (RFC 8291, aes128gcm) and signed with the server's VAPID key (RFC 8292) by the
// web-push library, sent through the webhooks' target policy (a push endpoint is a URL the user's
// browser supplied, as untrusted as a webhook URL).
import type { Database } from "@taskmesh/db";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { optional, piece, text, withDefault } from "@taskmesh/kit";
import webpush from "web-push";
import { PushSubscription } from "./entities.js";
import { postToTarget } from "./webhook.js";
import type { WebhookTargetPolicy } from "./webhook-target.js";

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  /** Who runs this server, for push services to reach (mailto: or https:). */
  subject: string;
}

/**
 * TASKMESH_VAPID_PUBLIC_KEY / _PRIVATE_KEY (`npx web-push generate-vapid-keys`), checked together,
 * and TASKMESH_VAPID_SUBJECT.
 */
export const vapidSettings = piece(
  {
    TASKMESH_VAPID_PUBLIC_KEY: optional(text, "Web Push's public key (`npx web-push generate-vapid-keys`); unset: a pair kept in the data folder (embedded) or push off (cluster)"),
    TASKMESH_VAPID_PRIVATE_KEY: optional({ ...text, secret: true }, "Web Push's private key, with the public one"),
    TASKMESH_VAPID_SUBJECT: withDefault(text, "mailto:admin@localhost", "who runs this server, for push services to reach (mailto: or https:)"),
  },
  (v, report): VapidSettings => {
    const [publicKey, privateKey, subject] = [v.TASKMESH_VAPID_PUBLIC_KEY, v.TASKMESH_VAPID_PRIVATE_KEY, v.TASKMESH_VAPID_SUBJECT];
    if (!publicKey && !privateKey) return { subject };
    if (!publicKey || !privateKey) {
      report(publicKey ? "TASKMESH_VAPID_PRIVATE_KEY" : "TASKMESH_VAPID_PUBLIC_KEY", "not set; the VAPID keys go together (npx web-push generate-vapid-keys)");
      return { subject };
    }
    try {
      webpush.setVapidDetails(subject, publicKey, privateKey); // validates both keys and the subject
    } catch (err) {
      report("TASKMESH_VAPID_PUBLIC_KEY", `the VAPID keys or subject were refused: ${(err as Error).message}`);
    }
    return { subject, keys: { publicKey, privateKey } };
  },
);

export interface VapidSettings {
  subject: string;
  keys?: { publicKey: string; privateKey: string };
}

/**
 * The configured VAPID keys; without them, a pair generated once and kept in
 * `<dataDir>/vapid-keys.json` when there is a data folder, else none (push is off).
 */
export function vapidKeys(settings: VapidSettings, dataDir?: string): VapidKeys | undefined {
  const { subject } = settings;
  if (settings.keys) return { ...settings.keys, subject };
  if (!dataDir) return undefined;
  const file = path.join(dataDir, "vapid-keys.json");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      // "wx": two processes starting at once cannot overwrite each other's keys.
      writeFileSync(file, JSON.stringify(webpush.generateVAPIDKeys()), { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  const stored = JSON.parse(readFileSync(file, "utf8")) as { publicKey: string; privateKey: string };
  return { ...stored, subject };
}

/** The push service says the subscription no longer exists (404, 410): it is forgotten. */
export class PushSubscriptionGone extends Error {
  constructor(status: number) {
    super(`push service answered HTTP ${status}: the subscription is gone`);
    this.name = "PushSubscriptionGone";
  }
}

/** What a push message carries to the service worker (JSON, encrypted). */
export interface PushPayload {
  type: "reminder";
  notificationId: string;
  taskId: string;
  reminderId: string;
  title: string;
  scheduledFor: string;
  firedAt: string;
}

/** Sends one encrypted message; resolves when the push service accepted it (2xx). */
export async function sendPush(
  subscription: Pick<PushSubscription, "endpoint" | "p256dh" | "auth">,
  payload: PushPayload,
  vapid: VapidKeys,
  policy: WebhookTargetPolicy,
  timeoutMs: number,
): Promise<void> {
  const details = webpush.generateRequestDetails({ endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } }, JSON.stringify(payload), {
    vapidDetails: vapid,
    // A reminder is worth little a day late: the push service may drop it after that.
    TTL: 86_400,
    urgency: "high",
    contentEncoding: "aes128gcm",
  });
  const status = await postToTarget(details.endpoint, details.headers as Record<string, string>, details.body, timeoutMs, policy);
  if (status === 404 || status === 410) throw new PushSubscriptionGone(status);
  if (status < 200 || status >= 300) throw new Error(`push service answered HTTP ${status}`);
}

export async function loadPushSubscription(db: Database, id: string): Promise<PushSubscription | null> {
  return db.em().findOne(PushSubscription, { id });
}

export async function forgetPushSubscription(db: Database, id: string): Promise<void> {
  await db.em().nativeDelete(PushSubscription, { id });
}

// The signature headers of a webhook call: ours (x-taskmesh-signature) always, Standard Webhooks'
// only for a secret whose key is base64, as its libraries read it.
import { test } from "vitest";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { standardWebhookHeaders } from "../src/webhook.js";

const body = JSON.stringify({ type: "reminder.fired", taskTitle: "Feed the cat" });
const now = Math.floor(Date.now() / 1000);

test("a base64 secret signs Standard Webhooks headers that its library verifies, for this body only", () => {
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const headers = standardWebhookHeaders(secret, "evt_1", body, now);
  assert.equal(headers["webhook-id"], "evt_1");
  assert.equal(headers["webhook-timestamp"], String(now));
  assert.match(headers["webhook-signature"] ?? "", /^v1,[A-Za-z0-9+/]{43}=$/);
  assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
  assert.throws(() => new Webhook(secret).verify(body.replace("cat", "dog"), headers));
});

test("a secret made before (base64url, unpadded) gets no Standard Webhooks headers rather than ones nobody can verify", () => {
  assert.deepEqual(standardWebhookHeaders("whsec_k2-W_3q7Xp0J0aM7n4oBvQm9y5Lw8r1Zs6tUe2dHc4g", "evt_1", body, now), {});
});

// This browser's Web Push subscription, registered with the server (ReminderService) so fired
// reminders reach it with no tab open.
import { useCallback, useEffect, useState } from "react";
import { remindersClient } from "../api/clients.js";

export type PushState = "unsupported" | "unavailable" | "off" | "on" | "blocked" | "working";

const base64url = (buffer: ArrayBuffer | null) =>
  buffer
    ? btoa(String.fromCharCode(...new Uint8Array(buffer)))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, "")
    : "";

function keyBytes(key: string): Uint8Array<ArrayBuffer> {
  const text = atob(key.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

const supported = () => "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

async function currentSubscription(): Promise<PushSubscription | null> {
  const registration = await navigator.serviceWorker.getRegistration();
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/** Whether push is on here, and turning it on (asks for permission: call from a click) or off. */
export function usePushSubscription() {
  const [state, setState] = useState<PushState>(supported() ? "working" : "unsupported");
  const [problem, setProblem] = useState<string>();

  useEffect(() => {
    if (!supported()) return;
    let live = true;
    void (async () => {
      const subscription = await currentSubscription();
      // Re-sent each time: the server may have forgotten it (the push service said it was gone).
      if (subscription) await remindersClient.addPushSubscription(subscriptionRequest(subscription)).catch(() => undefined);
      if (live) setState(subscription ? "on" : Notification.permission === "denied" ? "blocked" : "off");
    })();
    return () => {
      live = false;
    };
  }, []);

  const turnOn = useCallback(async () => {
    setState("working");
    setProblem(undefined);
    try {
      const { vapidPublicKey } = await remindersClient.getPushConfig({});
      if (!vapidPublicKey) return setState("unavailable");
      if ((await Notification.requestPermission()) !== "granted") return setState("blocked");
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(vapidPublicKey) });
      await remindersClient.addPushSubscription(subscriptionRequest(subscription));
      setState("on");
    } catch (err) {
      // E.g. the browser's push service cannot be reached.
      setProblem(err instanceof Error ? err.message : String(err));
      setState("off");
    }
  }, []);

  const turnOff = useCallback(async () => {
    setState("working");
    const subscription = await currentSubscription();
    if (subscription) {
      await remindersClient.removePushSubscription({ endpoint: subscription.endpoint }).catch(() => undefined);
      await subscription.unsubscribe();
    }
    setState("off");
  }, []);

  return { state, problem, turnOn, turnOff };
}

function subscriptionRequest(subscription: PushSubscription) {
  return { endpoint: subscription.endpoint, p256dh: base64url(subscription.getKey("p256dh")), auth: base64url(subscription.getKey("auth")) };
}

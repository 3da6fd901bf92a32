// taskmesh's service worker: the app shell offline, and reminders pushed while no tab is open.
// Plain JavaScript served as a file of its own (the page's Content-Security-Policy allows scripts
// from this origin only, never inline).
const SHELL = "taskmesh-shell-v1";
// The last answers to the reads the app starts with, so a reload without the server shows them.
const READS = "taskmesh-reads-v1";
const KEPT_READS = /^\/taskmesh\.(tasks\.v1\.TaskService\/(ListTasks|GetTask)|reminders\.v1\.ReminderService\/ListNotifications)$/;
const SHELL_FILES = ["/manifest.webmanifest", "/icon.svg"];
// Paths that are the API, never the app: straight to the network.
const API = /^\/(taskmesh\.|live|oauth|mcp|healthz|readyz|metrics|\.well-known)/;

/** index.html fetched and kept, with the bundles it names; bundles it no longer names are dropped. */
async function cacheShell(response) {
  const cache = await caches.open(SHELL);
  const html = await response.clone().text();
  const assets = [...new Set(html.match(/\/assets\/[^"'\s>]+/g) ?? [])];
  await cache.addAll(assets.filter((a) => a));
  await cache.put("/", response);
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (path.startsWith("/assets/") && !assets.includes(path)) await cache.delete(request);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      await cache.addAll(SHELL_FILES);
      await cacheShell(await fetch("/", { cache: "no-cache" }));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== SHELL && name !== READS) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

/** A read's cache key: its path and a digest of its body (the query, the page). */
async function readKey(request) {
  const digest = await crypto.subtle.digest("SHA-256", await request.clone().arrayBuffer());
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return new Request(`${request.url}?body=${hex}`);
}

/** Network first; the last answer when the server cannot be reached. */
async function keptRead(event) {
  const key = await readKey(event.request);
  try {
    const response = await fetch(event.request);
    if (response.ok) {
      const copy = response.clone();
      event.waitUntil(caches.open(READS).then((cache) => cache.put(key, copy)));
    }
    return response;
  } catch (err) {
    const kept = await caches.match(key, { cacheName: READS });
    if (kept) return kept;
    throw err;
  }
}

self.addEventListener("message", (event) => {
  // Signed out: nothing of theirs stays on the device.
  if (event.data?.type === "signed-out") event.waitUntil(caches.delete(READS));
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method === "POST" && url.origin === self.location.origin && KEPT_READS.test(url.pathname)) {
    event.respondWith(keptRead(event));
    return;
  }
  if (request.method !== "GET" || url.origin !== self.location.origin || API.test(url.pathname)) return;
  if (request.mode === "navigate") {
    // The newest page when the server answers, the kept one when it does not.
    event.respondWith(
      (async () => {
        try {
          const response = await fetch(request);
          if (response.ok && url.pathname === "/") event.waitUntil(cacheShell(response.clone()));
          return response;
        } catch {
          return (await caches.match("/")) ?? Response.error();
        }
      })(),
    );
    return;
  }
  // Bundles are content-hashed: a kept one is the right one.
  event.respondWith(
    (async () => {
      const kept = await caches.match(request);
      if (kept) return kept;
      const response = await fetch(request);
      if (response.ok && url.pathname.startsWith("/assets/")) {
        const copy = response.clone();
        event.waitUntil(caches.open(SHELL).then((cache) => cache.put(request, copy)));
      }
      return response;
    })(),
  );
});

const SNOOZE_MINUTES = 10;

self.addEventListener("push", (event) => {
  const data = event.data ? event.data.json() : undefined;
  if (!data || data.type !== "reminder") return;
  event.waitUntil(
    (async () => {
      await self.registration.showNotification(data.title, {
        body: "Reminder",
        tag: `reminder-${data.notificationId}`,
        timestamp: Date.parse(data.firedAt),
        icon: "/icon.svg",
        data,
        actions: [
          { action: "snooze", title: `Snooze ${SNOOZE_MINUTES} min` },
          { action: "dismiss", title: "Dismiss" },
        ],
      });
      // Open tabs show it in their inbox at once.
      for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage({ type: "inbox-changed" });
    })(),
  );
});

/**
 * A click on the notification or one of its buttons. The worker holds no credentials (the access
 * token lives in the page's memory): an open tab carries the action out, else a new one opens with
 * the action in its address and carries it out once signed in.
 */
self.addEventListener("notificationclick", (event) => {
  const data = event.notification.data;
  event.notification.close();
  if (!data) return;
  const action = event.action === "snooze" || event.action === "dismiss" ? event.action : "open";
  const message = { type: "reminder-action", action, taskId: data.taskId, reminderId: data.reminderId, notificationId: data.notificationId };
  event.waitUntil(
    (async () => {
      const [tab] = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      if (tab) {
        tab.postMessage(message);
        if (action === "open") await tab.focus();
        return;
      }
      const params = new URLSearchParams({ "reminder-action": action, task: data.taskId, reminder: data.reminderId, notification: data.notificationId });
      await self.clients.openWindow(`/?${params}`);
    })(),
  );
});

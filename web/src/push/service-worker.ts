// The service worker (web/public/sw.js): the app shell offline and reminders pushed while no tab is
// open. Registered once the page has loaded, so it never competes with the first render.
export function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator)) return;
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js").catch((err: unknown) => console.warn("service worker not registered:", err));
  });
}

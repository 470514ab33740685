// Web Push: with the server's VAPID key (GET /api/push/vapid-key; 404 when the server has none)
// and the browser's permission, subscribe through the service worker (/sw.js) and give the
// subscription to the server, which then notifies this browser of DMs and mentions while no
// Chatalot tab is open.

import { api } from "./api.js";

function keyBytes(base64url) {
  const padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4);
  return Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
}

function base64url(buffer) {
  return btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** "on" | "off" | "unavailable" (browser or server cannot) */
export async function pushState() {
  if (!pushSupported()) return "unavailable";
  const key = await api.push.vapidKey().catch(() => null);
  if (!key) return "unavailable";
  const registration = await navigator.serviceWorker.getRegistration("/");
  const subscription = registration && (await registration.pushManager.getSubscription());
  return subscription ? "on" : "off";
}

export async function enablePush() {
  const key = await api.push.vapidKey();
  if (!key) throw new Error("This server has no Web Push key configured.");
  if ((await Notification.requestPermission()) !== "granted") {
    throw new Error("Notifications are blocked in this browser's settings.");
  }
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: keyBytes(key.public_key),
  });
  await api.push.subscribe({
    endpoint: subscription.endpoint,
    p256dh_key: base64url(subscription.getKey("p256dh")),
    auth_key: base64url(subscription.getKey("auth")),
  });
}

export async function disablePush() {
  const registration = await navigator.serviceWorker.getRegistration("/");
  const subscription = registration && (await registration.pushManager.getSubscription());
  if (!subscription) return;
  await api.push.unsubscribe(subscription.endpoint).catch(() => {});
  await subscription.unsubscribe();
}

// Chatalot's service worker: shows Web Push notifications (metadata only: who, where; never
// the message) and opens the conversation when one is clicked. It caches nothing.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const sender = typeof data.sender_name === "string" ? data.sender_name : "Someone";
  const where = typeof data.channel_name === "string" ? data.channel_name : "";
  const title = data.notification_type === "mention" ? `${sender} mentioned you` : `${sender} sent you a message`;
  const body = data.notification_type === "mention" && where ? `in #${where}` : "Direct message";
  event.waitUntil(
    self.registration.showNotification(title, {
      body,
      tag: typeof data.channel_id === "string" ? data.channel_id : "chatalot",
      data: { channelId: data.channel_id },
      icon: "/favicon.ico",
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (new URL(client.url).origin === self.location.origin) return client.focus();
      }
      return self.clients.openWindow("/channels/@me");
    }),
  );
});

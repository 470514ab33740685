// Client-side routes on the History API. Paths:
//   /login /register /recover /invite/{code} /settings /admin
//   /channels/@me[/{dm channel id}]   /channels/{community id}[/{channel id}]

import { createStore } from "./store.js";

export const route = createStore(parse(location.pathname));

function parse(pathname) {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const [first, second, third] = parts;
  switch (first) {
    case undefined:
      return { name: "home" };
    case "login":
    case "register":
    case "recover":
    case "settings":
    case "admin":
    case "saved":
      return { name: first, section: second };
    case "invite":
      return { name: "invite", code: second || "" };
    case "channels":
      if (second === "@me") return { name: "dms", channelId: third || null };
      if (second) return { name: "community", communityId: second, channelId: third || null };
      return { name: "home" };
    default:
      return { name: "not_found" };
  }
}

export function navigate(path, { replace = false } = {}) {
  if (path === location.pathname) return;
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  route.set(parse(location.pathname));
}

window.addEventListener("popstate", () => route.set(parse(location.pathname)));

export const paths = {
  community: (communityId, channelId) =>
    `/channels/${encodeURIComponent(communityId)}${channelId ? "/" + encodeURIComponent(channelId) : ""}`,
  dm: (channelId) => `/channels/@me${channelId ? "/" + encodeURIComponent(channelId) : ""}`,
};

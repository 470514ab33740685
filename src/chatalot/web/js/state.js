// The client's data: what the server told us, kept current by the WebSocket events. Views read it
// through useStore(app, selector) and change it only through the actions in actions.js.

import { createStore } from "./store.js";

export const app = createStore({
  config: null, // GET /api/auth/config
  me: null, // UserPublic
  connection: "idle", // idle | connecting | open | closed
  communities: [], // CommunityResponse[]
  groups: {}, // community id -> GroupResponse[]
  channels: {}, // channel id -> ChannelResponse (group channels and DMs)
  groupChannels: {}, // group id -> channel id[]
  dms: [], // DmChannelResponse[] (newest first)
  members: {}, // community id -> CommunityMemberResponse[]
  channelMembers: {}, // channel id -> ChannelMemberResponse[]
  users: {}, // user id -> {id, username, display_name, avatar_url, ...}
  presence: {}, // user id -> status
  typing: {}, // channel id -> {user id: expires at (ms)}
  unread: {}, // channel id -> count
  messages: {}, // channel id -> {items: Message[], hasMore, loading, error}
  readCursors: {}, // channel id -> {user id: message id} (DMs)
  pins: {}, // channel id -> pinned messages (loaded when the pins panel opens)
  toasts: [], // {id, text, kind}
  loaded: false,
});

/** Shallow-updates one key of a keyed map in the state. */
export function setIn(key, id, value) {
  app.set((state) => {
    const current = state[key][id];
    const next = typeof value === "function" ? value(current) : value;
    if (next === current) return state;
    const map = { ...state[key] };
    if (next === undefined) delete map[id];
    else map[id] = next;
    return { ...state, [key]: map };
  });
}

let toastCounter = 0;
export function toast(text, kind = "error") {
  const id = ++toastCounter;
  app.set((state) => ({ ...state, toasts: [...state.toasts, { id, text, kind }] }));
  setTimeout(() => dismissToast(id), kind === "error" ? 8000 : 4000);
}

export function dismissToast(id) {
  app.set((state) => ({ ...state, toasts: state.toasts.filter((item) => item.id !== id) }));
}

/** A user's shown name: community nickname, display name, username, or a short id. */
export function displayName(state, userId, communityId) {
  if (communityId) {
    const member = (state.members[communityId] || []).find((item) => item.user_id === userId);
    if (member && member.nickname) return member.nickname;
  }
  const user = state.users[userId];
  if (user) return user.display_name || user.username;
  return "Unknown user";
}

// Jumping to a message (from a search result): open its conversation, bring the message into
// the list, scroll it to the middle and highlight it briefly. The messages API pages backwards
// only (`before`), so an old message is reached the way a reader would: the list is scrolled to
// its top, which shows more of what is held and then loads older pages, until the row is there.

import { createStore } from "./store.js";
import { app } from "./state.js";
import { navigate, paths } from "./router.js";

const GIVE_UP_MS = 30_000;
const HIGHLIGHT_MS = 2500;

/** The pending jump: {seq, channelId, messageId, threadId, fromSearch} or null. */
export const jumpStore = createStore({ request: null });
let seq = 0;

/** Where a channel lives: its page path (community or DM), or null when we do not have it. */
export function channelPath(channelId) {
  const state = app.get();
  if (state.dms.some((dm) => dm.channel.id === channelId)) return paths.dm(channelId);
  for (const [communityId, groups] of Object.entries(state.groups)) {
    for (const group of groups || []) {
      if ((state.groupChannels[group.id] || []).includes(channelId)) return paths.community(communityId, channelId);
    }
  }
  const channel = state.channels[channelId];
  if (channel && channel.channel_type === "dm") return paths.dm(channelId);
  return null;
}

/** Asks for `messageId` of `channelId` to be shown (the channel view does it when on screen).
 * False when the channel is not one we can open. */
export function requestJump({ channelId, messageId, threadId = null, fromSearch = false }) {
  const path = channelPath(channelId);
  if (!path) return false;
  jumpStore.set({ request: { seq: ++seq, channelId, messageId, threadId: threadId || null, fromSearch } });
  navigate(path);
  return true;
}

export function takeJump(request) {
  const current = jumpStore.get().request;
  if (current && request && current.seq === request.seq) jumpStore.set({ request: null });
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const frame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));

function rowOf(root, messageId) {
  return root.querySelector(`li.message[data-message-id="${CSS.escape(messageId)}"]`);
}

/** Brings the row of `messageId` into `root` (the channel section) and highlights it.
 * Resolves "shown", "missing" (not in the history: deleted, or not visible to us) or
 * "cancelled" (isCancelled() became true, e.g. the view closed). */
export async function revealMessage(getRoot, channelId, messageId, isCancelled = () => false) {
  const until = Date.now() + GIVE_UP_MS;
  let idleRounds = 0;
  while (Date.now() < until) {
    if (isCancelled()) return "cancelled";
    const root = getRoot();
    const row = root && rowOf(root, messageId);
    if (row) {
      highlight(row);
      return "shown";
    }
    const held = app.get().messages[channelId];
    const scroller = root && root.querySelector(".message-scroller");
    if (!held || !held.loaded || held.loading || !scroller) {
      await wait(60);
      continue;
    }
    const inStore = held.items.some((item) => item.id === messageId);
    if (!inStore && !held.hasMore) {
      // everything is loaded; give the list a moment to show what it holds, then stop
      if (++idleRounds > 20) return "missing";
    }
    // down a little (out of the list's "near the top" zone, not at the bottom, which would
    // shrink the list back), then to the top: the list shows more, or loads an older page
    scroller.scrollTop = Math.max(0, Math.min(scroller.scrollHeight - scroller.clientHeight - 200, 1500));
    await frame();
    scroller.scrollTop = 0;
    scroller.dispatchEvent(new Event("scroll"));
    await wait(80);
  }
  return "missing";
}

export function highlight(row) {
  row.scrollIntoView({ block: "center" });
  row.classList.add("jump-target");
  row.focus({ preventScroll: true });
  setTimeout(() => row.classList.remove("jump-target"), HIGHLIGHT_MS);
}

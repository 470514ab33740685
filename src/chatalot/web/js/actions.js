// Everything that changes the client's data: loading from the REST API, applying WebSocket
// events, and sending. Views call these; nothing else writes to the store.

import { api, ApiError } from "./api.js";
import { realtime } from "./ws.js";
import { session } from "./session.js";
import { app, setIn, toast } from "./state.js";
import { encodeText, isEncrypted } from "./content.js";
import { NotEncryptedError, encryptionRequired, sealText } from "./e2e/outgoing.js";
import { rememberOwnBytes, rememberSent, whenDecrypted } from "./e2e/plaintexts.js";
import { encryption } from "./e2e/account.js";

const PAGE = 50;
const TYPING_MS = 10_000;

// ---- loading -------------------------------------------------------------------------------

function rememberUsers(list) {
  if (!list.length) return;
  app.set((state) => {
    const users = { ...state.users };
    for (const user of list) users[user.id] = { ...users[user.id], ...user };
    return { ...state, users };
  });
}

function rememberChannels(list) {
  if (!list.length) return;
  app.set((state) => {
    const channels = { ...state.channels };
    for (const channel of list) channels[channel.id] = channel;
    return { ...state, channels };
  });
}

/** The first load after sign-in, and again after every reconnect. */
export async function loadEverything() {
  const [config, me, communities, channels, dms, unread] = await Promise.all([
    api.auth.config(),
    api.account.me(),
    api.communities.list(),
    api.channels.list(),
    api.dms.list(),
    api.channels.unread(),
  ]);
  session.setUser(me);
  rememberUsers([me, ...dms.map((dm) => dm.other_user)]);
  rememberChannels([...channels, ...dms.map((dm) => dm.channel)]);
  const unreadMap = {};
  for (const row of unread) unreadMap[row.channel_id] = row.unread_count;
  app.set({ config, me, communities, dms, unread: unreadMap, loaded: true });
  realtime.subscribe([...channels.map((c) => c.id), ...dms.map((dm) => dm.channel.id)]);
  await Promise.all(communities.map((community) => loadCommunity(community.id, channels)));
}

/** A community's groups, members and our channels in it. ``memberships``: our channels
 * (GET /api/channels) when the caller has them already. */
export async function loadCommunity(communityId, memberships = null) {
  const [groups, members, channels] = await Promise.all([
    api.communities.groups(communityId),
    api.communities.members(communityId),
    memberships ? Promise.resolve(memberships) : api.channels.list(),
  ]);
  memberships = channels;
  rememberUsers(
    members.map((m) => ({
      id: m.user_id,
      username: m.username,
      display_name: m.display_name,
      avatar_url: m.avatar_url,
    })),
  );
  setIn("members", communityId, members);
  setIn("groups", communityId, groups);
  // only channels we are in: a group lists its discoverable ones too (one we were kicked from)
  const mine = new Set(memberships.map((channel) => channel.id));
  const lists = (
    await Promise.all(groups.map((group) => api.groups.channels(group.id).catch(() => [])))
  ).map((list) => list.filter((channel) => mine.has(channel.id)));
  const all = lists.flat();
  rememberChannels(all);
  app.set((state) => {
    const groupChannels = { ...state.groupChannels };
    groups.forEach((group, index) => {
      groupChannels[group.id] = lists[index].map((channel) => channel.id);
    });
    return { ...state, groupChannels };
  });
  realtime.subscribe(all.map((channel) => channel.id));
}

export async function refreshCommunities() {
  const [communities, channels] = await Promise.all([api.communities.list(), api.channels.list()]);
  app.set({ communities });
  await Promise.all(communities.map((community) => loadCommunity(community.id, channels)));
}

export async function refreshDms() {
  const dms = await api.dms.list();
  rememberUsers(dms.map((dm) => dm.other_user));
  rememberChannels(dms.map((dm) => dm.channel));
  app.set({ dms });
  realtime.subscribe(dms.map((dm) => dm.channel.id));
}

const pendingUsers = new Set();
/** Fetches users we have no name for (message senders who left, DM partners...). */
export function ensureUser(userId) {
  if (!userId || app.get().users[userId] || pendingUsers.has(userId)) return;
  pendingUsers.add(userId);
  api.users
    .get(userId)
    .then((user) => rememberUsers([user]))
    .catch(() => {})
    .finally(() => pendingUsers.delete(userId));
}

// ---- messages ------------------------------------------------------------------------------

function sortItems(items) {
  return items.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
}

function fromServer(message) {
  return {
    id: message.id,
    channel_id: message.channel_id,
    sender_id: message.sender_id,
    ciphertext: message.ciphertext,
    nonce: message.nonce,
    message_type: message.message_type,
    reply_to: message.reply_to_id ?? message.reply_to ?? null,
    edited_at: message.edited_at ?? null,
    created_at: message.created_at,
    reactions: message.reactions || [],
    thread_id: message.thread_id || null,
    thread_reply_count: message.thread_reply_count || 0,
  };
}

function updateMessages(channelId, fn) {
  setIn("messages", channelId, (current) =>
    fn(current || { items: [], hasMore: true, loading: false, error: null, loaded: false }),
  );
}

/** The newest page, merged with what we hold (used on open and after a reconnect). */
export async function loadLatest(channelId) {
  updateMessages(channelId, (current) => ({ ...current, loading: true, error: null }));
  let page;
  try {
    page = (await api.channels.messages(channelId, { limit: PAGE })).map(fromServer).reverse();
  } catch (error) {
    updateMessages(channelId, (current) => ({ ...current, loading: false, error: error.message }));
    throw error;
  }
  updateMessages(channelId, (current) => {
    // messages of ours not (yet) stored stay at the end; one that was unconfirmed when the
    // connection dropped and is now in the page was stored after all
    const local = current.items.filter(
      (item) => (item.pending || item.failed) && !(item.unconfirmed && matchesStored(item, page)),
    );
    const known = current.items.filter((item) => !item.pending && !item.failed);
    const overlaps = known.length > 0 && page.length > 0 && known.some((item) => item.id === page[0].id);
    // bridged: what we hold before the page, then the page (drops what was deleted meanwhile);
    // otherwise (first load, or a gap too long to bridge) the page alone
    const older = overlaps ? known.filter((item) => item.created_at < page[0].created_at) : [];
    // what arrived live while the page was on its way is newer than the page: kept
    const inPage = new Set(page.map((item) => item.id));
    const newest = page.length ? page[page.length - 1].created_at : "";
    const newer = known.filter((item) => item.created_at > newest && !inPage.has(item.id));
    return {
      ...current,
      items: [...older, ...page, ...newer, ...local],
      hasMore: overlaps ? current.hasMore : page.length >= PAGE,
      loading: false,
      loaded: true,
    };
  });
  return page;
}

function matchesStored(pending, page) {
  const me = app.get().me;
  return page.some(
    (item) =>
      item.sender_id === me?.id &&
      item.ciphertext.length === pending.ciphertext.length &&
      item.ciphertext.every((byte, index) => byte === pending.ciphertext[index]),
  );
}

export async function loadPins(channelId) {
  const pins = await api.channels.pins(channelId);
  setIn("pins", channelId, pins.map((pin) => ({ ...fromServer(pin), pinned_by: pin.pinned_by, pinned_at: pin.pinned_at })));
}

export async function loadThread(channelId, rootId) {
  const replies = (await api.channels.thread(channelId, rootId, { limit: 100 })).map(fromServer);
  updateMessages(channelId, (current) => {
    const ids = new Set(current.items.map((item) => item.id));
    const fresh = replies.filter((item) => !ids.has(item.id));
    return fresh.length ? { ...current, items: sortItems([...current.items, ...fresh]) } : current;
  });
  return replies;
}

/** Where each member has read up to (shown in DMs as "Seen"). */
export async function loadReadCursors(channelId) {
  const rows = await api.channels.readCursors(channelId);
  const cursors = {};
  for (const row of rows) if (row.last_read_message_id) cursors[row.user_id] = row.last_read_message_id;
  setIn("readCursors", channelId, cursors);
}

export async function loadOlder(channelId) {
  const current = app.get().messages[channelId];
  if (!current || current.loading || !current.hasMore) return;
  const oldest = current.items.find((item) => !item.pending);
  if (!oldest) return loadLatest(channelId).catch(() => {}); // the error is shown in the list
  updateMessages(channelId, (state) => ({ ...state, loading: true }));
  try {
    const page = (await api.channels.messages(channelId, { before: oldest.id, limit: PAGE }))
      .map(fromServer)
      .reverse();
    updateMessages(channelId, (state) => {
      const ids = new Set(state.items.map((item) => item.id));
      return {
        ...state,
        items: [...page.filter((item) => !ids.has(item.id)), ...state.items],
        hasMore: page.length >= PAGE,
        loading: false,
      };
    });
  } catch (error) {
    updateMessages(channelId, (state) => ({ ...state, loading: false, error: error.message }));
  }
}

const outbox = []; // pending messages of this session, in the order sent (answers come in order)
let pendingCounter = 0;

// Sending. The message shows at once (as "Sending…", from the text typed); its bytes are made
// next (encrypted when the instance has end-to-end encryption on) and frames leave in the order
// the user sent them, so the server's answers (`message_sent`, in order) match the outbox.
let sendChain = Promise.resolve();

/** Why nothing can be sent now (shown to the user), or null. */
function cannotSend() {
  if (realtime.state !== "open") return "Not connected: the message was not sent. It is kept in the box; try again.";
  if (encryptionRequired() && encryption.get().status !== "ready") {
    return "End-to-end encryption is not ready in this browser, so the message was not sent.";
  }
  return null;
}

export function sendText(channelId, text, { replyTo = null, threadId = null } = {}) {
  const payload = { message_type: "text", reply_to: replyTo };
  if (threadId) payload.thread_id = threadId;
  return sendPayload(channelId, text, payload);
}

export function sendFileMessage(channelId, file) {
  return sendPayload(channelId, JSON.stringify(file), { message_type: "file", reply_to: null });
}

function sendPayload(channelId, text, payload) {
  const refusal = cannotSend();
  if (refusal) {
    toast(refusal);
    return false;
  }
  const me = app.get().me;
  const temporaryId = `pending-${++pendingCounter}`;
  const shown = encodeText(text); // local only: what the pending row shows until confirmed
  const item = {
    id: temporaryId,
    channel_id: channelId,
    sender_id: me.id,
    ciphertext: shown.ciphertext,
    nonce: shown.nonce,
    message_type: payload.message_type,
    reply_to: payload.reply_to,
    edited_at: null,
    created_at: new Date().toISOString(),
    reactions: [],
    thread_id: payload.thread_id || null,
    pending: true,
  };
  updateMessages(channelId, (current) => ({ ...current, items: [...current.items, item] }));
  const send = async () => {
    let sealed;
    try {
      sealed = await sealText(channelId, text);
    } catch (error) {
      markFailed(item, error instanceof NotEncryptedError ? error.message : `Not encrypted: ${error.message || error}`);
      return;
    }
    // kept by its bytes before it leaves: should the connection drop before `message_sent`, the
    // stored message still shows its text after the refetch
    if (isEncrypted({ ciphertext: sealed.ciphertext, message_type: payload.message_type })) {
      await rememberOwnBytes(sealed.ciphertext, text).catch(() => {});
    }
    const frame = { type: "send_message", channel_id: channelId, ...payload, ...sealed, sender_key_id: null };
    if (!realtime.send(frame)) {
      markFailed(item, "Not connected: the message was not sent.");
      return;
    }
    outbox.push({ ...item, sent: sealed.ciphertext, text });
  };
  sendChain = sendChain.then(send, send);
  return true;
}

function markFailed(item, reason) {
  toast(reason);
  updateMessages(item.channel_id, (current) => ({
    ...current,
    items: current.items.map((other) => (other.id === item.id ? { ...other, pending: false, failed: true } : other)),
  }));
}

function confirmSent(frame) {
  const item = outbox.shift();
  if (!item) return;
  // our own encrypted message: its text is kept (a ratchet cannot decrypt what it sent)
  if (isEncrypted({ ciphertext: item.sent, message_type: item.message_type })) {
    rememberSent({ ...item, id: frame.id, created_at: frame.created_at, ciphertext: item.sent }, item.text);
  }
  if (item.thread_id) {
    patchMessage(item.channel_id, item.thread_id, (root) => ({
      ...root,
      thread_reply_count: (root.thread_reply_count || 0) + 1,
    }));
  }
  updateMessages(item.channel_id, (current) => {
    if (current.items.some((other) => other.id === frame.id)) {
      return { ...current, items: current.items.filter((other) => other.id !== item.id) };
    }
    const items = current.items.map((other) =>
      other.id === item.id
        ? { ...other, id: frame.id, created_at: frame.created_at, ciphertext: item.sent, pending: false }
        : other,
    );
    return { ...current, items: sortItems(items) };
  });
}

const SEND_REFUSALS = new Set([
  "forbidden",
  "not_found",
  "archived",
  "read_only",
  "slow_mode",
  "timed_out",
  "blocked",
  "validation_error",
  "rate_limited",
  "internal_error",
]);

function failOldestPending() {
  const item = outbox.shift();
  if (!item) return;
  updateMessages(item.channel_id, (current) => ({
    ...current,
    items: current.items.map((other) =>
      other.id === item.id ? { ...other, pending: false, failed: true } : other,
    ),
  }));
}

export function discardFailed(channelId, messageId) {
  updateMessages(channelId, (current) => ({
    ...current,
    items: current.items.filter((item) => item.id !== messageId),
  }));
}

/** Sends an edit (encrypted like a new message); false when it cannot be sent now. */
export function editMessage(messageId, text) {
  const refusal = cannotSend();
  if (refusal) {
    toast(refusal);
    return false;
  }
  const message = findMessage(messageId);
  const channelId = message ? message.channel_id : activeChannel;
  const send = async () => {
    let sealed;
    try {
      sealed = await sealText(channelId, text);
    } catch (error) {
      toast(`The edit was not saved: ${error.message || error}`);
      return;
    }
    if (isEncrypted({ ciphertext: sealed.ciphertext, message_type: "text" })) {
      const edited = { ...(message || { id: messageId }), ciphertext: sealed.ciphertext, edited_at: new Date().toISOString() };
      rememberSent(edited, text);
    }
    if (!realtime.send({ type: "edit_message", message_id: messageId, ...sealed })) {
      toast("Not connected: the edit was not saved.");
    }
  };
  sendChain = sendChain.then(send, send);
  return true;
}

function findMessage(messageId) {
  for (const held of Object.values(app.get().messages)) {
    const found = held.items.find((item) => item.id === messageId);
    if (found) return found;
  }
  return null;
}

export function deleteMessage(messageId) {
  return realtime.send({ type: "delete_message", message_id: messageId });
}

export function toggleReaction(message, emoji) {
  const me = app.get().me;
  const group = (message.reactions || []).find((item) => item.emoji === emoji);
  const mine = group && group.user_ids.includes(me.id);
  return realtime.send({
    type: mine ? "remove_reaction" : "add_reaction",
    message_id: message.id,
    emoji,
  });
}

// The read position goes to the server at most once a second per channel (the newest message
// then): a busy channel would otherwise send one frame for every batch of new messages.
const READ_EVERY_MS = 1000;
let lastRead = {};
const readSentAt = {};
const readLater = {};
export function markRead(channelId) {
  const state = app.get();
  if (state.unread[channelId]) setIn("unread", channelId, 0);
  if (readLater[channelId]) return; // a report is already due
  const wait = (readSentAt[channelId] || 0) + READ_EVERY_MS - Date.now();
  if (wait > 0) {
    readLater[channelId] = setTimeout(() => {
      delete readLater[channelId];
      sendRead(channelId);
    }, wait);
    return;
  }
  sendRead(channelId);
}

function sendRead(channelId) {
  const items = app.get().messages[channelId]?.items || [];
  let newest = null;
  for (let index = items.length - 1; index >= 0 && !newest; index -= 1) {
    if (!items[index].pending && !items[index].failed) newest = items[index];
  }
  if (!newest || lastRead[channelId] === newest.id) return;
  lastRead[channelId] = newest.id;
  readSentAt[channelId] = Date.now();
  realtime.send({ type: "mark_read", channel_id: channelId, message_id: newest.id });
}

let typingSentAt = 0;
export function sendTyping(channelId) {
  const now = Date.now();
  if (now - typingSentAt < 3000) return;
  typingSentAt = now;
  realtime.send({ type: "typing", channel_id: channelId });
}

export function stopTyping(channelId) {
  if (!typingSentAt) return;
  typingSentAt = 0;
  realtime.send({ type: "stop_typing", channel_id: channelId });
}

// ---- realtime events -----------------------------------------------------------------------

let activeChannel = null;
/** The channel on screen: its new messages do not count as unread. */
export function setActiveChannel(channelId) {
  activeChannel = channelId;
}

// New messages are applied in batches (one store update per 50 ms at most): at 100 messages a
// second, one update per message would re-render the conversation 100 times a second.
const BATCH_MS = 50;
let incoming = [];
let batchTimer = null;

function onNewMessage(frame) {
  incoming.push(fromServer(frame));
  if (!batchTimer) batchTimer = setTimeout(flushIncoming, BATCH_MS);
}

function flushIncoming() {
  batchTimer = null;
  const batch = incoming;
  incoming = [];
  const me = app.get().me?.id;
  const watching = document.visibilityState === "visible";
  for (const message of batch) ensureUser(message.sender_id);
  app.set((state) => {
    const messages = { ...state.messages };
    // unread counts and typing lines are copied only when they change: the sidebar and the
    // typing line re-render whenever their part of the state is a new object
    let unread = state.unread;
    let typing = state.typing;
    const byChannel = new Map();
    for (const message of batch) {
      if (!byChannel.has(message.channel_id)) byChannel.set(message.channel_id, []);
      byChannel.get(message.channel_id).push(message);
      if ((message.channel_id !== activeChannel || !watching) && message.sender_id !== me) {
        if (unread === state.unread) unread = { ...unread };
        unread[message.channel_id] = (unread[message.channel_id] || 0) + 1;
      }
      const typists = typing[message.channel_id];
      if (typists && typists[message.sender_id]) {
        const rest = { ...typists };
        delete rest[message.sender_id];
        if (typing === state.typing) typing = { ...typing };
        typing[message.channel_id] = rest;
      }
    }
    for (const [channelId, arrived] of byChannel) {
      const held = messages[channelId];
      if (!held) continue;
      const known = new Set(held.items.map((item) => item.id));
      const replies = new Map();
      const fresh = [];
      for (const message of arrived) {
        if (known.has(message.id)) continue;
        known.add(message.id);
        fresh.push(message);
        if (message.thread_id) replies.set(message.thread_id, (replies.get(message.thread_id) || 0) + 1);
      }
      if (!fresh.length) continue;
      let items = held.items;
      if (replies.size) {
        items = items.map((item) =>
          replies.has(item.id) ? { ...item, thread_reply_count: (item.thread_reply_count || 0) + replies.get(item.id) } : item,
        );
      }
      const last = items.length ? items[items.length - 1].created_at : "";
      items = [...items, ...fresh];
      // in order already unless something older arrived late (or a pending message sits last)
      if (fresh[0].created_at < last) sortItems(items);
      messages[channelId] = { ...held, items };
    }
    return { ...state, messages, unread, typing };
  });
  for (const message of batch) {
    if ((message.channel_id !== activeChannel || !watching) && message.sender_id !== me) notify(message);
  }
}

function notify(message) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  if (document.visibilityState === "visible" && message.channel_id === activeChannel) return;
  const state = app.get();
  const channel = state.channels[message.channel_id];
  const dm = channel?.channel_type === "dm";
  if (dm) {
    showNotification(message, "sent you a message");
  } else if (isEncrypted(message)) {
    // a mention in an encrypted channel is known once the message is decrypted (in the
    // background; the text itself never goes into the notification)
    whenDecrypted(message).then((result) => {
      if (result && result.ok && textMentions(result.text, app.get().me)) showNotification(message, "mentioned you");
    });
  } else if (textMentions(new TextDecoder().decode(new Uint8Array(message.ciphertext || [])), state.me)) {
    showNotification(message, "mentioned you");
  }
}

function showNotification(message, body) {
  const sender = app.get().users[message.sender_id];
  const title = sender ? sender.display_name || sender.username : "New message";
  try {
    new Notification(title, { body, tag: message.channel_id });
  } catch {
    // notifications unsupported in this context
  }
}

function textMentions(text, me) {
  if (!me || typeof text !== "string") return false;
  return text.includes("@" + me.username) || text.includes("@everyone");
}

function patchMessage(channelId, messageId, fn) {
  if (!channelId) {
    const all = app.get().messages;
    channelId = Object.keys(all).find((id) => all[id].items.some((item) => item.id === messageId));
    if (!channelId) return;
  }
  updateMessages(channelId, (current) => {
    let changed = false;
    const items = current.items.map((item) => {
      if (item.id !== messageId) return item;
      changed = true;
      return fn(item);
    });
    return changed ? { ...current, items: items.filter(Boolean) } : current;
  });
}

function setTyping(channelId, userId, typing) {
  setIn("typing", channelId, (current) => {
    const next = { ...(current || {}) };
    if (typing) next[userId] = Date.now() + TYPING_MS;
    else if (next[userId]) delete next[userId];
    else return current;
    return next;
  });
}

function clearTyping(channelId, userId) {
  setTyping(channelId, userId, false);
}

function removeChannel(channelId) {
  app.set((state) => {
    const channels = { ...state.channels };
    delete channels[channelId];
    const groupChannels = {};
    for (const [groupId, ids] of Object.entries(state.groupChannels)) {
      groupChannels[groupId] = ids.filter((id) => id !== channelId);
    }
    const messages = { ...state.messages };
    delete messages[channelId];
    return { ...state, channels, groupChannels, messages, dms: state.dms.filter((dm) => dm.channel.id !== channelId) };
  });
  realtime.unsubscribe([channelId]);
}

export function wireRealtime(onLostAccess, onLostCommunity) {
  const on = (type, fn) => realtime.on(type, fn);
  on("status", (status) => {
    app.set({ connection: status });
    document.documentElement.dataset.connection = status; // for styling and tests
  });
  // the server tells others, not us, that we came online
  on("ready", ({ userId }) => setIn("presence", userId, "online"));
  on("message_sent", confirmSent);
  on("error", (frame) => {
    if (SEND_REFUSALS.has(frame.code) && outbox.length) failOldestPending();
    toast(frame.message);
  });
  on("new_message", onNewMessage);
  on("message_edited", (frame) =>
    patchMessage(frame.channel_id, frame.message_id, (item) => ({
      ...item,
      ciphertext: frame.ciphertext,
      nonce: frame.nonce,
      edited_at: frame.edited_at,
    })),
  );
  on("message_deleted", (frame) => patchMessage(null, frame.message_id, () => null));
  const react = (add) => (frame) =>
    patchMessage(null, frame.message_id, (item) => {
      const reactions = (item.reactions || []).map((group) => ({ ...group, user_ids: [...group.user_ids] }));
      let group = reactions.find((entry) => entry.emoji === frame.emoji);
      if (add) {
        if (!group) reactions.push((group = { emoji: frame.emoji, user_ids: [] }));
        if (!group.user_ids.includes(frame.user_id)) group.user_ids.push(frame.user_id);
      } else if (group) {
        group.user_ids = group.user_ids.filter((id) => id !== frame.user_id);
      }
      return { ...item, reactions: reactions.filter((entry) => entry.user_ids.length) };
    });
  on("reaction_added", react(true));
  on("reaction_removed", react(false));
  on("user_typing", (frame) => {
    if (frame.user_id !== app.get().me?.id) setTyping(frame.channel_id, frame.user_id, true);
  });
  on("user_stopped_typing", (frame) => clearTyping(frame.channel_id, frame.user_id));
  on("presence_bulk", (frame) => {
    const presence = {};
    for (const [userId, status] of frame.statuses) presence[userId] = status;
    app.set((state) => ({ ...state, presence: { ...state.presence, ...presence } }));
  });
  on("presence_update", (frame) => setIn("presence", frame.user_id, frame.status));
  on("read_receipt", (frame) =>
    setIn("readCursors", frame.channel_id, (current) => ({ ...(current || {}), [frame.user_id]: frame.message_id })),
  );
  on("new_dm_channel", () => refreshDms().catch(() => {}));
  on("message_pinned", (frame) => {
    if (app.get().pins[frame.channel_id]) loadPins(frame.channel_id).catch(() => {});
  });
  on("message_unpinned", (frame) =>
    setIn("pins", frame.channel_id, (pins) => (pins ? pins.filter((pin) => pin.id !== frame.message_id) : pins)),
  );
  on("channel_updated", (frame) =>
    setIn("channels", frame.channel_id, (channel) =>
      channel
        ? {
            ...channel,
            name: frame.name,
            topic: frame.topic,
            read_only: frame.read_only,
            slow_mode_seconds: frame.slow_mode_seconds,
            archived: frame.archived,
          }
        : channel,
    ),
  );
  on("channel_deleted", (frame) => {
    removeChannel(frame.channel_id);
    onLostAccess(frame.channel_id, "This channel was deleted.");
  });
  const lost = (verb) => (frame) => {
    if (frame.user_id !== app.get().me?.id) {
      setIn("channelMembers", frame.channel_id, undefined);
      return;
    }
    removeChannel(frame.channel_id);
    onLostAccess(frame.channel_id, `You were ${verb} from this channel.`);
    refreshCommunities().catch(() => {});
  };
  on("member_kicked", lost("removed"));
  on("member_banned", lost("banned"));
  on("community_member_removed", (frame) => {
    // sent only to the removed member's own sessions
    const community = app.get().communities.find((item) => item.id === frame.community_id);
    app.set((state) => ({
      ...state,
      communities: state.communities.filter((item) => item.id !== frame.community_id),
    }));
    const verb = { kicked: "removed from", banned: "banned from", left: "no longer in" }[frame.reason] || "removed from";
    onLostCommunity(frame.community_id, `You were ${verb} ${community ? community.name : "a community"}.`);
    refreshCommunities().catch(() => {});
  });
  on("community_updated", (frame) =>
    app.set((state) => ({
      ...state,
      communities: state.communities.map((community) =>
        community.id === frame.community_id
          ? {
              ...community,
              name: frame.name,
              description: frame.description,
              icon_url: frame.icon_url,
              banner_url: frame.banner_url,
              community_theme: frame.community_theme,
              welcome_message: frame.welcome_message,
            }
          : community,
      ),
    })),
  );
  on("group_updated", () => refreshCommunities().catch(() => {}));
  on("group_deleted", () => refreshCommunities().catch(() => {}));
  on("user_profile_updated", (frame) =>
    setIn("users", frame.user_id, (user) => (user ? { ...user, ...frame, id: frame.user_id } : user)),
  );
  on("user_timed_out", (frame) => {
    if (frame.user_id === app.get().me?.id) toast(`You are timed out in this channel until ${new Date(frame.expires_at).toLocaleString()}.`, "info");
  });
  on("user_warned", (frame) => {
    if (frame.user_id === app.get().me?.id) toast(`A moderator warned you: ${frame.reason}`, "info");
  });
  on("announcement", (frame) => toast(`${frame.title}: ${frame.body}`, "info"));
  // expire typing indicators whose stop never came
  setInterval(() => {
    const now = Date.now();
    app.set((state) => {
      let changed = false;
      const typing = {};
      for (const [channelId, users] of Object.entries(state.typing)) {
        const alive = Object.fromEntries(Object.entries(users).filter(([, until]) => until > now));
        if (Object.keys(alive).length !== Object.keys(users).length) changed = true;
        typing[channelId] = alive;
      }
      return changed ? { ...state, typing } : state;
    });
  }, 2000);
}

/** After the first connection: what arrived between the history load and the subscription. */
export async function refreshActive() {
  if (activeChannel && app.get().messages[activeChannel]?.loaded) await loadLatest(activeChannel);
}

/** After a reconnect: fill in what happened while we were away, without duplicates. */
export async function catchUp() {
  for (const item of outbox.splice(0)) {
    // sent before the connection dropped, never confirmed: stored or not, we cannot tell yet
    updateMessages(item.channel_id, (current) => ({
      ...current,
      items: current.items.map((other) => (other.id === item.id ? { ...other, unconfirmed: true } : other)),
    }));
  }
  await loadEverything();
  if (activeChannel) await loadLatest(activeChannel).catch(() => {});
  // what is still unconfirmed after the refetch was not stored
  const all = app.get().messages;
  for (const channelId of Object.keys(all)) {
    if (all[channelId].items.some((item) => item.unconfirmed)) {
      updateMessages(channelId, (current) => ({
        ...current,
        items: current.items.map((item) =>
          item.unconfirmed ? { ...item, unconfirmed: false, pending: false, failed: true } : item,
        ),
      }));
    }
  }
  // channels we are not looking at: their cached history may have gaps; load again when opened
  app.set((state) => {
    const messages = {};
    if (activeChannel && state.messages[activeChannel]) messages[activeChannel] = state.messages[activeChannel];
    return { ...state, messages };
  });
}

export function describeError(error) {
  if (error instanceof ApiError) return error.message;
  return "Something went wrong";
}

// The REST API (/api), the one place the client makes HTTP calls. Every function mirrors one
// route of docs/api.md. Errors are ApiError {status, code, message} from the server's error shape
// {"error": {"code", "message"}}; a network failure is ApiError with status 0.

import { session } from "./session.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onSignedOut = () => {};
/** Called when the session cannot be renewed (refresh token refused): the app shows login. */
export function setSignedOutHandler(fn) {
  onSignedOut = fn;
}

function url(path, query) {
  const target = new URL(`/api${path}`, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(key, value);
  }
  return target.pathname + target.search;
}

async function parseError(response) {
  let code = "http_" + response.status;
  let message = response.statusText || "request failed";
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(response.status, code, message);
}

async function send(method, path, { body, query, form, auth = true, token } = {}) {
  const headers = {};
  const bearer = token || (auth ? session.accessToken : null);
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url(path, query), { method, headers, body: payload });
  } catch {
    throw new ApiError(0, "network_error", "cannot reach the server");
  }
  return response;
}

async function decode(response) {
  if (!response.ok) throw await parseError(response);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

let refreshing = null;

/** A new access token, once per tab at a time and once across tabs (Web Locks): a refresh
 * token presented twice counts as stolen and ends the session on the server. */
export function refreshSession(staleAccess) {
  if (!refreshing) {
    const run = async () => {
      if (session.accessToken && session.accessToken !== staleAccess) return true; // another tab did it
      const token = session.refreshToken;
      if (!token) return false;
      const response = await send("POST", "/auth/refresh", {
        body: { refresh_token: token },
        auth: false,
      });
      if (response.status === 401) return false;
      const tokens = await decode(response);
      session.store(tokens);
      return true;
    };
    const locked = navigator.locks
      ? navigator.locks.request("chatalot-token-refresh", run)
      : run();
    refreshing = locked.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** An authenticated call: on 401 the access token is renewed once and the call repeated. */
export async function request(method, path, options = {}) {
  const access = session.accessToken;
  let response = await send(method, path, options);
  if (response.status === 401 && options.auth !== false && session.refreshToken) {
    let renewed = false;
    try {
      renewed = await refreshSession(access);
    } catch (error) {
      if (error instanceof ApiError && error.status === 0) throw error;
    }
    if (!renewed) {
      session.clear();
      onSignedOut();
      throw await parseError(response);
    }
    response = await send(method, path, options);
  }
  return decode(response);
}

const get = (path, query) => request("GET", path, { query });
const post = (path, body) => request("POST", path, { body });
const put = (path, body) => request("PUT", path, { body });
const patch = (path, body) => request("PATCH", path, { body });
const del = (path) => request("DELETE", path);
const publicPost = (path, body) => request("POST", path, { body, auth: false });

/** Multipart upload with progress (fetch has no upload progress): resolves to the JSON body. */
export function upload(path, form, onProgress) {
  const attempt = () =>
    new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `/api${path}`);
      const token = session.accessToken;
      if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
      xhr.responseType = "text";
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
      };
      xhr.onerror = () => reject(new ApiError(0, "network_error", "cannot reach the server"));
      xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText, token });
      xhr.send(form);
    });
  return attempt().then(async (result) => {
    let final = result;
    if (result.status === 401 && (await refreshSession(result.token).catch(() => false))) {
      final = await attempt();
    }
    let body = null;
    try {
      body = final.text ? JSON.parse(final.text) : null;
    } catch {
      body = null;
    }
    if (final.status < 200 || final.status >= 300) {
      const error = body && body.error ? body.error : {};
      throw new ApiError(final.status, error.code || "http_" + final.status, error.message || "upload failed");
    }
    return body;
  });
}

const id = encodeURIComponent;

export const api = {
  auth: {
    config: () => request("GET", "/auth/config", { auth: false }),
    register: (body) => publicPost("/auth/register", body),
    login: (body) => publicPost("/auth/login", body),
    recover: (body) => publicPost("/auth/recover", body),
  },
  account: {
    me: () => get("/account/me"),
    updateProfile: (body) => put("/account/profile", body),
    changePassword: (body) => put("/account/password", body),
    sessions: () => get("/account/sessions"),
    revokeSession: (sessionId) => del(`/account/sessions/${id(sessionId)}`),
    logoutAll: () => post("/account/logout-all"),
    preferences: () => get("/account/preferences"),
    savePreferences: (preferences) => put("/account/preferences", { preferences }),
    regenerateRecoveryCode: () => post("/account/regenerate-recovery-code"),
    uploadAvatar: (form, onProgress) => upload("/account/avatar", form, onProgress),
    announcements: () => get("/account/announcements"),
    dismissAnnouncement: (announcementId) =>
      post(`/account/announcements/${id(announcementId)}/dismiss`),
  },
  totp: {
    setup: () => post("/totp/setup", {}),
    verify: (code) => post("/totp/verify", { code }),
    disable: (code) => post("/totp/disable", { code }),
    regenerateBackupCodes: (code) => post("/totp/regenerate-backup-codes", { code }),
  },
  reports: {
    create: (reportType, targetId, reason) =>
      post("/reports", { report_type: reportType, target_id: targetId, reason }),
  },
  users: {
    block: (userId) => post("/users/block", { user_id: userId }),
    unblock: (userId) => post(`/users/unblock/${id(userId)}`),
    blocked: () => get("/users/blocked"),
    get: (userId) => get(`/users/${id(userId)}`),
    search: (q) => get("/users/search", { q }),
  },
  communities: {
    list: () => get("/communities"),
    get: (cid) => get(`/communities/${id(cid)}`),
    create: (body) => post("/communities", body),
    update: (cid, body) => patch(`/communities/${id(cid)}`, body),
    leave: (cid) => post(`/communities/${id(cid)}/leave`),
    members: (cid) => get(`/communities/${id(cid)}/members`),
    groups: (cid) => get(`/communities/${id(cid)}/groups`),
    createInvite: (cid, body) => post(`/communities/${id(cid)}/invites`, body),
    invite: (code) => get(`/community-invites/${id(code)}`),
    acceptInvite: (code) => post(`/community-invites/${id(code)}/accept`),
    kick: (cid, uid) => del(`/communities/${id(cid)}/members/${id(uid)}`),
    ban: (cid, uid, body) => post(`/communities/${id(cid)}/bans/${id(uid)}`, body || {}),
    timeout: (cid, chid, body) => post(`/communities/${id(cid)}/channels/${id(chid)}/timeout`, body),
    warn: (cid, chid, body) => post(`/communities/${id(cid)}/channels/${id(chid)}/warn`, body),
  },
  groups: {
    create: (body) => post("/groups", body),
    channels: (gid) => get(`/groups/${id(gid)}/channels`),
    createChannel: (gid, body) => post(`/groups/${id(gid)}/channels`, body),
    updateChannel: (gid, chid, body) => patch(`/groups/${id(gid)}/channels/${id(chid)}`, body),
    join: (gid) => post(`/groups/${id(gid)}/join`),
  },
  channels: {
    list: () => get("/channels"),
    get: (chid) => get(`/channels/${id(chid)}`),
    update: (chid, body) => patch(`/channels/${id(chid)}`, body),
    members: (chid) => get(`/channels/${id(chid)}/members`),
    unread: () => get("/channels/unread"),
    readCursors: (chid) => get(`/channels/${id(chid)}/read-cursors`),
    messages: (chid, query) => get(`/channels/${id(chid)}/messages`, query),
    history: (chid, mid) => get(`/channels/${id(chid)}/messages/${id(mid)}/history`),
    thread: (chid, mid, query) => get(`/channels/${id(chid)}/threads/${id(mid)}`, query),
    pins: (chid) => get(`/channels/${id(chid)}/pins`),
    pin: (chid, mid) => post(`/channels/${id(chid)}/pins/${id(mid)}`),
    unpin: (chid, mid) => del(`/channels/${id(chid)}/pins/${id(mid)}`),
  },
  dms: {
    list: () => get("/dms"),
    open: (targetUserId) => post("/dms", { target_user_id: targetUserId }),
  },
  files: {
    upload: (form, onProgress) => upload("/files/upload", form, onProgress),
    url: (fileId) => `/api/files/${id(fileId)}`,
  },
  linkPreview: (target) => get("/link-preview", { url: target }),
  push: {
    // null when the server has no key (404)
    vapidKey: () =>
      request("GET", "/push/vapid-key", { auth: false }).catch((error) => {
        if (error.status === 404) return null;
        throw error;
      }),
    subscribe: (body) => post("/push/subscribe", body),
    unsubscribe: (endpoint) => post("/push/unsubscribe", { endpoint }),
  },
  polls: {
    list: (chid) => get(`/channels/${id(chid)}/polls`),
    get: (pollId) => get(`/polls/${id(pollId)}`),
    create: (chid, body) => post(`/channels/${id(chid)}/polls`, body),
    vote: (pollId, optionIndex) => post(`/polls/${id(pollId)}/vote`, { option_index: optionIndex }),
    unvote: (pollId, optionIndex) => del(`/polls/${id(pollId)}/vote/${optionIndex}`),
    close: (pollId) => post(`/polls/${id(pollId)}/close`),
  },
  scheduled: {
    list: () => get("/messages/scheduled"),
    create: (body) => post("/messages/schedule", body),
    cancel: (scheduledId) => del(`/messages/scheduled/${id(scheduledId)}`),
  },
  bookmarks: {
    list: () => get("/bookmarks"),
    create: (messageId, note) => post("/bookmarks", { message_id: messageId, note }),
    remove: (bookmarkId) => del(`/bookmarks/${id(bookmarkId)}`),
  },
  admin: {
    settings: () => get("/admin/settings"),
    saveSettings: (values) => put("/admin/settings", values),
    users: (query) => get("/admin/users", query),
    suspend: (userId, reason) => post(`/admin/users/${id(userId)}/suspend`, { reason }),
    unsuspend: (userId) => post(`/admin/users/${id(userId)}/unsuspend`),
    deleteUser: (userId) => del(`/admin/users/${id(userId)}`),
    setAdmin: (userId, isAdmin) => put(`/admin/users/${id(userId)}/admin`, { is_admin: isAdmin }),
    resetPassword: (userId, newPassword) =>
      put(`/admin/users/${id(userId)}/password`, { new_password: newPassword }),
    invites: () => get("/admin/invites"),
    createInvite: (body) => post("/admin/invites", body),
    deleteInvite: (inviteId) => del(`/admin/invites/${id(inviteId)}`),
    reports: (query) => get("/admin/reports", query),
    reviewReport: (reportId, body) => post(`/admin/reports/${id(reportId)}/review`, body),
    auditLog: (query) => get("/admin/audit-log", query),
    files: (query) => get("/admin/files", query),
    storageStats: () => get("/admin/storage-stats"),
    deleteFile: (fileId) => del(`/admin/files/${id(fileId)}`),
    quarantineFile: (fileId, on) => post(`/admin/files/${id(fileId)}/${on ? "quarantine" : "unquarantine"}`),
    announcements: () => get("/admin/announcements"),
    announce: (body) => post("/admin/announcements", body),
  },
  // search, emoji, GIFs (helper D)
  search: {
    channel: (chid, query) => get(`/channels/${id(chid)}/messages/search`, query),
    global: (query) => get("/messages/search", query),
  },
  emojis: {
    list: (cid) => get(`/communities/${id(cid)}/emojis`),
    url: (emojiId) => `/api/emojis/${id(emojiId)}`,
  },
  gifs: {
    search: (q, query) => get("/gifs/search", { ...query, q }),
    trending: (query) => get("/gifs/trending", query),
  },
  // community management (helper C)
  manage: {
    community: (cid) => get(`/communities/${id(cid)}`),
    updateCommunity: (cid, body) => patch(`/communities/${id(cid)}`, body),
    deleteCommunity: (cid) => del(`/communities/${id(cid)}`),
    uploadIcon: (cid, form, onProgress) => upload(`/communities/${id(cid)}/icon`, form, onProgress),
    uploadBanner: (cid, form, onProgress) =>
      upload(`/communities/${id(cid)}/banner`, form, onProgress),
    emojis: (cid) => get(`/communities/${id(cid)}/emojis`),
    addEmoji: (cid, form, onProgress) => upload(`/communities/${id(cid)}/emojis`, form, onProgress),
    deleteEmoji: (cid, emojiId) => del(`/communities/${id(cid)}/emojis/${id(emojiId)}`),
    group: (gid) => get(`/groups/${id(gid)}`),
    updateGroup: (gid, body) => patch(`/groups/${id(gid)}`, body),
    deleteGroup: (gid) => del(`/groups/${id(gid)}`),
    deleteChannel: (gid, chid) => del(`/groups/${id(gid)}/channels/${id(chid)}`),
  },
  // end-to-end encryption keys (lead)
  keys: {
    register: (body) => post("/keys/register", body),
    prekeyCount: () => get("/keys/prekeys/count"),
    uploadOneTime: (list) => post("/keys/prekeys/one-time", list),
    bundle: (userId) => get(`/keys/${id(userId)}/bundle`),
    senderKeys: (chid) => get(`/channels/${id(chid)}/sender-keys`),
    uploadSenderKey: (chid, body) => post(`/channels/${id(chid)}/sender-keys`, body),
  },
};

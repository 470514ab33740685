// What a bookmark points at, remembered in this browser (the server keeps only the message id
// and the note): the channel, its community and a short preview, so the saved list can say what
// each bookmark is and open its conversation.

const KEY = "chatalot.bookmarks";

function read() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "{}");
  } catch {
    return {};
  }
}

export function rememberBookmark(bookmarkId, details) {
  const all = read();
  all[bookmarkId] = details;
  try {
    localStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    // not remembered: the list shows the note only
  }
}

export function bookmarkDetails(bookmarkId) {
  return read()[bookmarkId] || null;
}

export function forgetBookmark(bookmarkId) {
  const all = read();
  delete all[bookmarkId];
  try {
    localStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    // nothing to undo
  }
}

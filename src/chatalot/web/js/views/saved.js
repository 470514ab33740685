// /saved: your bookmarks and your scheduled messages.

import { html, useEffect, useState } from "../html.js";
import { api } from "../api.js";
import { toast } from "../state.js";
import { navigate, paths } from "../router.js";
import { bookmarkDetails, forgetBookmark } from "../saved.js";
import { formatFull } from "../time.js";
import { ErrorText, Spinner } from "./common.js";

function Bookmarks() {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const load = () => api.bookmarks.list().then(setItems, (failure) => setError(failure.message));
  useEffect(() => {
    load();
  }, []);
  const remove = (bookmark) =>
    api.bookmarks.remove(bookmark.id).then(
      () => {
        forgetBookmark(bookmark.id);
        load();
      },
      (failure) => toast(failure.message),
    );
  return html`<section aria-labelledby="bookmarks-h">
    <h2 id="bookmarks-h">Bookmarks</h2>
    <${ErrorText} error=${error} />
    ${!items && !error && html`<${Spinner} />`}
    ${items && items.length === 0 && html`<p class="muted">Nothing saved yet: use "Bookmark" on a message.</p>`}
    <ul class="plain-list">
      ${(items || []).map((bookmark) => {
        const details = bookmarkDetails(bookmark.id);
        const where = details && (details.communityId ? paths.community(details.communityId, details.channelId) : paths.dm(details.channelId));
        return html`<li key=${bookmark.id} class="card">
          ${details && html`<p>${details.preview}</p>`}
          ${bookmark.note && html`<p class="muted">Note: ${bookmark.note}</p>`}
          <div class="row">
            <span class="muted small grow">Saved ${formatFull(bookmark.created_at)}</span>
            ${where && html`<button type="button" onClick=${() => navigate(where)}>Open conversation</button>`}
            <button type="button" class="danger" onClick=${() => remove(bookmark)}>Remove</button>
          </div>
        </li>`;
      })}
    </ul>
  </section>`;
}

function Scheduled() {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const load = () => api.scheduled.list().then(setItems, (failure) => setError(failure.message));
  useEffect(() => {
    load();
  }, []);
  return html`<section aria-labelledby="scheduled-h">
    <h2 id="scheduled-h">Scheduled messages</h2>
    <${ErrorText} error=${error} />
    ${items && items.length === 0 && html`<p class="muted">No messages waiting to be sent.</p>`}
    <ul class="plain-list">
      ${(items || []).map(
        (item) => html`<li key=${item.id} class="card">
          <p>${item.content_preview || "(no preview)"}</p>
          <div class="row">
            <span class="muted small grow">Sends ${formatFull(item.scheduled_for)}</span>
            <button type="button" class="danger" onClick=${() =>
              api.scheduled.cancel(item.id).then(load, (failure) => toast(failure.message))}>Cancel</button>
          </div>
        </li>`,
      )}
    </ul>
  </section>`;
}

export function SavedPage() {
  return html`<main class="settings-page" id="main">
    <header class="row">
      <button type="button" class="link" onClick=${() => navigate("/channels/@me")}>← Back</button>
      <h1 class="grow">Saved and scheduled</h1>
    </header>
    <${Bookmarks} />
    <${Scheduled} />
  </main>`;
}

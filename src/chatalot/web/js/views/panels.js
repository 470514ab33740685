// Side panels of a conversation: a thread (one message and its replies, with its own message
// box) and the pinned messages.

import { html, useEffect, useState } from "../html.js";
import { useStore } from "../store.js";
import { app, displayName, toast } from "../state.js";
import { api } from "../api.js";
import { loadPins, loadThread } from "../actions.js";
import { useDecoded } from "../e2e/plaintexts.js";
import { renderMarkdown } from "../markdown.js";
import { formatFull } from "../time.js";
import { Icon } from "../icons.js";
import { MessageList } from "./messages.js";
import { Composer } from "./composer.js";
import { Spinner } from "./common.js";

function PanelHeader({ title, onClose }) {
  return html`<header class="panel-header">
    <h2>${title}</h2>
    <button type="button" class="icon" aria-label=${"Close " + title.toLowerCase()} onClick=${onClose}><${Icon} name="close" /></button>
  </header>`;
}

function Quote({ message, communityId }) {
  const state = app.get();
  const content = useDecoded(message);
  return html`<div class="quoted">
    <div class="message-head"><span class="author">${displayName(state, message.sender_id, communityId)}</span>
      <time datetime=${message.created_at}>${formatFull(message.created_at)}</time></div>
    <div class="text">${content.kind === "text" ? renderMarkdown(content.text, { me: state.me?.username }) : content.kind === "file" ? content.file.filename : "Encrypted message"}</div>
  </div>`;
}

export function ThreadPanel({ channel, root, communityId, canModerate, disabledReason, onClose }) {
  const [loading, setLoading] = useState(true);
  const [editing, setEditing] = useState(null);
  useEffect(() => {
    setLoading(true);
    loadThread(channel.id, root.id)
      .catch((failure) => toast(failure.message))
      .finally(() => setLoading(false));
  }, [root.id]);
  return html`<aside class="side-panel thread-panel" aria-label="Thread">
    <${PanelHeader} title="Thread" onClose=${onClose} />
    <${Quote} message=${root} communityId=${communityId} />
    ${loading && html`<${Spinner} label="Loading replies" />`}
    <${MessageList} channel=${channel} communityId=${communityId} canModerate=${canModerate}
      threadRoot=${root} unreadAtOpen=${0} onReply=${() => {}}
      onEdit=${(message, text) => setEditing({ message, text })} />
    <${Composer} channel=${channel} communityId=${communityId} threadId=${root.id}
      disabledReason=${disabledReason} editing=${editing} onEditDone=${() => setEditing(null)}
      onStartEdit=${(message, text) => setEditing({ message, text })} />
  </aside>`;
}

export function PinsPanel({ channel, communityId, canModerate, onClose }) {
  const pins = useStore(app, (state) => state.pins[channel.id]);
  useEffect(() => {
    loadPins(channel.id).catch((failure) => toast(failure.message));
  }, [channel.id]);
  return html`<aside class="side-panel" aria-label="Pinned messages">
    <${PanelHeader} title="Pinned messages" onClose=${onClose} />
    ${!pins && html`<${Spinner} />`}
    ${pins && pins.length === 0 && html`<p class="muted pad">Nothing is pinned in this channel yet.</p>`}
    <ul class="plain-list pins">
      ${(pins || []).map(
        (pin) => html`<li key=${pin.id} class="card">
          <${Quote} message=${pin} communityId=${communityId} />
          ${canModerate &&
          html`<button type="button" class="small" onClick=${() =>
            api.channels.unpin(channel.id, pin.id).catch((failure) => toast(failure.message))}>Unpin</button>`}
        </li>`,
      )}
    </ul>
  </aside>`;
}

// One conversation on screen: header, end-to-end notice, message list, typing line, composer,
// and its side panels (thread, pins, polls, search). A jump to a message (a search result) is
// carried out here once this conversation is on screen.

import { html, useEffect, useRef, useState } from "../html.js";
import { useStore } from "../store.js";
import { app, displayName, toast } from "../state.js";
import { loadLatest, loadReadCursors, markRead, setActiveChannel } from "../actions.js";
import { MessageList } from "./messages.js";
import { Composer } from "./composer.js";
import { E2eNotice, e2eBlocksSending } from "./e2e.js";
import { IdentityWarning, SafetyNumberDialog } from "./verify.js";
import { encryption } from "../e2e/account.js";
import { Icon } from "../icons.js";
import { VoicePanel } from "./voice.js";
import { PinsPanel, ThreadPanel } from "./panels.js";
import { PollsPanel } from "./polls.js";
import { ChannelSettingsDialog } from "./dialogs.js";
import { SearchPanel, rememberedSearch } from "./search.js";
import { loadCommunityEmoji } from "./pickers.js";
import { customEmojiStore, setActiveCommunity } from "../emoji.js";
import { jumpStore, revealMessage, takeJump } from "../jump.js";

function SearchIcon() {
  return html`<svg class="icon-svg" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor"
    stroke-width="2" stroke-linecap="round" aria-hidden="true" focusable="false"><circle cx="11" cy="11" r="6.5" /><path d="M16 16l4.5 4.5" /></svg>`;
}

function TypingLine({ channelId, communityId }) {
  const typing = useStore(app, (state) => state.typing[channelId]);
  const state = app.get();
  const names = Object.keys(typing || {}).map((userId) => displayName(state, userId, communityId));
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = "Several people are typing…";
  return html`<div class="typing" aria-live="polite">${text}</div>`;
}

export function ChannelView({ channel, communityId, title, icon = "hash", canModerate, onToggleMembers, onOpenNav, peerId = null }) {
  const config = useStore(app, (state) => state.config);
  const e2eStatus = useStore(encryption, (state) => state.status);
  const [verifyOpen, setVerifyOpen] = useState(false);
  const me = useStore(app, (state) => state.me);
  const loaded = useStore(app, (state) => Boolean(state.messages[channel.id]?.loaded));
  const newestId = useStore(app, (state) => {
    const items = state.messages[channel.id]?.items;
    return items && items.length ? items[items.length - 1].id : null;
  });
  const [replyTo, setReplyTo] = useState(null);
  const [editing, setEditing] = useState(null);
  const [unreadAtOpen, setUnreadAtOpen] = useState(0);
  const [panel, setPanel] = useState(() => {
    // opened from a search result: the search stays open here
    const request = jumpStore.get().request;
    const last = rememberedSearch();
    return request && request.fromSearch && request.channelId === channel.id && last && last.channelId === channel.id
      ? { kind: "search" }
      : null;
  }); // {kind: "thread", root} | {kind: "pins"} | {kind: "polls"} | {kind: "search"}
  const [settingsOpen, setSettingsOpen] = useState(false);
  const section = useRef(null);
  const searchButton = useRef(null);
  const jump = useStore(jumpStore, (state) => state.request);
  // rows render a community's custom emoji once its list is known: the list is drawn again then
  const emojiVersion = useStore(customEmojiStore, (state) => (communityId ? state.version[communityId] || 0 : 0));

  useEffect(() => {
    setActiveCommunity(communityId || null);
    if (communityId) loadCommunityEmoji(communityId);
  }, [communityId]);

  const mounted = useRef(true);
  useEffect(() => () => {
    mounted.current = false;
  }, []);
  useEffect(() => {
    if (!jump || jump.channelId !== channel.id) return;
    takeJump(jump);
    const current = jump.seq;
    const cancelled = () => !mounted.current || (jumpStore.get().request && jumpStore.get().request.seq !== current);
    revealMessage(() => section.current, channel.id, jump.messageId, cancelled).then((outcome) => {
      if (outcome === "missing") toast("That message is no longer in this conversation's history.");
      if (outcome === "shown" && jump.threadId) {
        const root = (app.get().messages[channel.id]?.items || []).find((item) => item.id === jump.threadId);
        if (root) setPanel({ kind: "thread", root });
      }
    });
  }, [jump && jump.seq]);

  const closeSearch = () => {
    setPanel(null);
    requestAnimationFrame(() => searchButton.current && searchButton.current.focus());
  };

  useEffect(() => {
    setActiveChannel(channel.id);
    setReplyTo(null);
    setEditing(null);
    setUnreadAtOpen(app.get().unread[channel.id] || 0);
    if (!app.get().messages[channel.id]?.loaded) loadLatest(channel.id).catch(() => {});
    if (channel.channel_type === "dm") loadReadCursors(channel.id).catch(() => {});
    return () => setActiveChannel(null);
  }, [channel.id]);

  useEffect(() => {
    if (loaded && document.visibilityState === "visible") markRead(channel.id);
  }, [loaded, newestId, channel.id]);
  useEffect(() => {
    const onVisible = () => document.visibilityState === "visible" && markRead(channel.id);
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, [channel.id]);

  let disabledReason = e2eBlocksSending(config, e2eStatus);
  if (disabledReason) {
    // said by the notice above the list
  } else if (channel.archived) disabledReason = "This channel is archived: it can be read but not written to.";
  else if (channel.read_only && !canModerate) disabledReason = "This channel is read-only.";

  return html`
    <section class="channel" aria-label=${title} ref=${section}>
      <header class="channel-header">
        <button class="icon nav-toggle" type="button" aria-label="Open navigation" onClick=${onOpenNav}><${Icon} name="menu" /></button>
        <h1 class="channel-title"><${Icon} name=${icon} size=${18} /> ${title}</h1>
        ${channel.topic && html`<p class="topic" title=${channel.topic}>${channel.topic}</p>`}
        ${channel.slow_mode_seconds > 0 &&
        html`<span class="badge" title="Slow mode"><${Icon} name="clock" size=${12} /> ${channel.slow_mode_seconds}s</span>`}
        <button class="icon" type="button" aria-label="Search messages" title="Search messages" ref=${searchButton}
          aria-pressed=${panel && panel.kind === "search" ? "true" : "false"}
          onClick=${() => (panel && panel.kind === "search" ? closeSearch() : setPanel({ kind: "search" }))}><${SearchIcon} /></button>
        ${channel.channel_type !== "dm" &&
        html`<button class="icon" type="button" aria-label="Pinned messages" title="Pinned messages"
          aria-pressed=${panel && panel.kind === "pins" ? "true" : "false"}
          onClick=${() => setPanel(panel && panel.kind === "pins" ? null : { kind: "pins" })}><${Icon} name="pin" /></button>`}
        ${channel.channel_type !== "dm" &&
        html`<button class="icon" type="button" aria-label="Polls" title="Polls"
          aria-pressed=${panel && panel.kind === "polls" ? "true" : "false"}
          onClick=${() => setPanel(panel && panel.kind === "polls" ? null : { kind: "polls" })}><${Icon} name="poll" /></button>`}
        ${canModerate && channel.channel_type !== "dm" &&
        html`<button class="icon" type="button" aria-label="Channel settings" title="Channel settings"
          onClick=${() => setSettingsOpen(true)}><${Icon} name="settings" /></button>`}
        ${peerId && config && config.e2e_enabled &&
        html`<button class="icon" type="button" aria-label="Verify encryption" title="Verify encryption (safety number)"
          onClick=${() => setVerifyOpen(true)}><${Icon} name="lock" /></button>`}
        ${onToggleMembers &&
        html`<button class="icon" type="button" aria-label="Members" title="Members" onClick=${onToggleMembers}><${Icon} name="users" /></button>`}
      </header>
      <${E2eNotice} config=${config} me=${me} />
      ${peerId && e2eStatus === "ready" && html`<${IdentityWarning} peerId=${peerId} name=${title} />`}
      ${verifyOpen && html`<${SafetyNumberDialog} peerId=${peerId} name=${title} onClose=${() => setVerifyOpen(false)} />`}
      ${channel.channel_type === "voice" && html`<${VoicePanel} channel=${channel} communityId=${communityId} />`}
      <${MessageList}
        key=${"emoji-" + emojiVersion}
        channel=${channel}
        communityId=${communityId}
        canModerate=${canModerate}
        unreadAtOpen=${unreadAtOpen}
        onReply=${setReplyTo}
        onEdit=${(message, text) => setEditing({ message, text })}
        onOpenThread=${(root) => setPanel({ kind: "thread", root })}
      />
      <${TypingLine} channelId=${channel.id} communityId=${communityId} />
      <${Composer}
        channel=${channel}
        communityId=${communityId}
        disabledReason=${disabledReason}
        replyTo=${replyTo}
        onCancelReply=${() => setReplyTo(null)}
        editing=${editing}
        onEditDone=${() => setEditing(null)}
        onStartEdit=${(message, text) => setEditing({ message, text })}
      />
    </section>
    ${panel && panel.kind === "thread" &&
    html`<${ThreadPanel} key=${panel.root.id} channel=${channel} root=${panel.root} communityId=${communityId}
      canModerate=${canModerate} disabledReason=${disabledReason} onClose=${() => setPanel(null)} />`}
    ${settingsOpen && html`<${ChannelSettingsDialog} channel=${channel} onClose=${() => setSettingsOpen(false)} />`}
    ${panel && panel.kind === "polls" &&
    html`<${PollsPanel} channel=${channel} canModerate=${canModerate} onClose=${() => setPanel(null)} />`}
    ${panel && panel.kind === "search" &&
    html`<${SearchPanel} channel=${channel} communityId=${communityId} onClose=${closeSearch} />`}
    ${panel && panel.kind === "pins" &&
    html`<${PinsPanel} channel=${channel} communityId=${communityId} canModerate=${canModerate} onClose=${() => setPanel(null)} />`}
  `;
}

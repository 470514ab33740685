// The signed-in layout: the rail of communities, the channel or DM list, the conversation, and
// the members panel. On a phone-sized screen one pane shows at a time.

import { html, useEffect, useState } from "../html.js";
import { useStore } from "../store.js";
import { app, displayName } from "../state.js";
import { navigate, paths } from "../router.js";
import { loadCommunity } from "../actions.js";
import { Avatar, Spinner } from "./common.js";
import { Icon } from "../icons.js";
import { ChannelView } from "./channel.js";
import { MembersPanel } from "./members.js";
import { E2eNotice } from "./e2e.js";
import {
  CreateChannelDialog,
  CreateCommunityDialog,
  InviteDialog,
  JoinCommunityDialog,
} from "./dialogs.js";
import { CommunitySettingsDialog, ownImage } from "./community.js";
import { GroupSettingsDialog } from "./community_group.js";
import { parseHex, themeStyle, themeTone } from "./community_theme.js";

const ICONS = { text: "hash", voice: "volume", gallery: "image", dm: "at" };
const MANAGER_ROLES = new Set(["owner", "admin"]);
const MODERATOR_ROLES = new Set(["owner", "admin", "moderator"]);

function go(path) {
  return (event) => {
    event.preventDefault();
    navigate(path);
  };
}

function Rail({ route }) {
  const communities = useStore(app, (state) => state.communities);
  const unread = useStore(app, (state) => state.unread);
  const dms = useStore(app, (state) => state.dms);
  const [dialog, setDialog] = useState(null);
  const dmUnread = dms.reduce((sum, dm) => sum + (unread[dm.channel.id] || 0), 0);
  return html`
    <nav class="rail" aria-label="Communities">
      <a href="/channels/@me" class=${"rail-item" + (route.name === "dms" ? " active" : "")}
        aria-current=${route.name === "dms" ? "page" : undefined} onClick=${go("/channels/@me")}
        title="Direct messages" aria-label="Direct messages">
        <${Icon} name="chat" />
        ${dmUnread > 0 && html`<span class="pill" aria-label=${dmUnread + " unread"}>${dmUnread}</span>`}
      </a>
      <hr />
      ${communities.map((community) => {
        const active = route.communityId === community.id;
        return html`<a key=${community.id} href=${paths.community(community.id)}
          class=${"rail-item" + (active ? " active" : "")} aria-current=${active ? "page" : undefined}
          title=${community.name} aria-label=${community.name} onClick=${go(paths.community(community.id))}>
          ${ownImage(community.icon_url)
            ? html`<img src=${community.icon_url} alt="" />`
            : html`<span aria-hidden="true">${community.name.slice(0, 2)}</span>`}
        </a>`;
      })}
      <button type="button" class="rail-item add" title="Create a community" aria-label="Create a community"
        onClick=${() => setDialog("create")}><${Icon} name="plus" /></button>
      <button type="button" class="rail-item add" title="Join with an invite" aria-label="Join a community with an invite"
        onClick=${() => setDialog("join")}><${Icon} name="join" /></button>
      <a href="/saved" class="rail-item saved" title="Saved and scheduled" aria-label="Saved and scheduled" onClick=${go("/saved")}><${Icon} name="bookmark" /></a>
      <a href="/settings" class="rail-item settings" title="Settings" aria-label="Settings" onClick=${go("/settings")}><${Icon} name="settings" /></a>
      ${dialog === "create" && html`<${CreateCommunityDialog} onClose=${() => setDialog(null)} />`}
      ${dialog === "join" && html`<${JoinCommunityDialog} onClose=${() => setDialog(null)} />`}
    </nav>
  `;
}

function ConnectionBanner() {
  const connection = useStore(app, (state) => state.connection);
  if (connection === "open" || connection === "idle") return null;
  return html`<div class="connection-banner" role="status">
    ${connection === "connecting" ? "Connecting…" : "Connection lost. Reconnecting…"}
  </div>`;
}

function ChannelLink({ channel, communityId, active, unread }) {
  const href = communityId ? paths.community(communityId, channel.id) : paths.dm(channel.id);
  return html`<li>
    <a href=${href} class=${"channel-link" + (active ? " active" : "") + (unread ? " unread" : "")}
      aria-current=${active ? "page" : undefined} onClick=${go(href)}>
      <span class="channel-icon"><${Icon} name=${ICONS[channel.channel_type] || "hash"} size=${16} /></span>
      <span class="channel-name">${channel.name}</span>
      ${unread > 0 && html`<span class="pill" aria-label=${unread + " unread"}>${unread}</span>`}
    </a>
  </li>`;
}

function CommunitySidebar({ community, activeChannelId, myRole }) {
  const groups = useStore(app, (state) => state.groups[community.id]);
  const groupChannels = useStore(app, (state) => state.groupChannels);
  const channels = useStore(app, (state) => state.channels);
  const unread = useStore(app, (state) => state.unread);
  const me = useStore(app, (state) => state.me);
  const [dialog, setDialog] = useState(null);
  const manager = MANAGER_ROLES.has(myRole) || (me && (me.is_admin || me.is_owner));
  const moderator = MODERATOR_ROLES.has(myRole) || (me && me.is_owner);
  // group settings: the group's admins (the server decides; a refusal shows in the dialog)
  const groupAdmin = (group) =>
    manager || (me && group.owner_id === me.id) || (Boolean(group.assigned_member_id) && moderator);
  const banner = ownImage(community.banner_url);
  return html`
    <nav class="sidebar" aria-label=${community.name + " channels"}>
      ${banner && html`<img class="community-banner" src=${banner} alt="" />`}
      <header class="sidebar-header">
        <h2>${community.name}</h2>
        ${manager &&
        html`<button type="button" class="icon" aria-label="Community settings" title="Community settings"
          onClick=${() => setDialog({ kind: "community" })}><${Icon} name="settings" /></button>`}
        <button type="button" class="icon" aria-label="Invite people" title="Invite people"
          onClick=${() => setDialog({ kind: "invite" })}><${Icon} name="userPlus" /></button>
      </header>
      ${!groups && html`<${Spinner} />`}
      ${(groups || []).map(
        (group) => html`<section key=${group.id} aria-label=${group.name}
          class=${"group" + (parseHex(group.accent_color) ? " has-accent" : "")}
          style=${parseHex(group.accent_color) ? `--group-accent:${group.accent_color}` : ""}>
          <h3>
            <span>${group.name}</span>
            ${groupAdmin(group) &&
            html`<button type="button" class="icon small" aria-label=${"Settings of " + group.name}
              title="Group settings" onClick=${() => setDialog({ kind: "group", group })}><${Icon} name="settings" size=${16} /></button>`}
            ${manager &&
            html`<button type="button" class="icon small" aria-label=${"New channel in " + group.name}
              title="New channel" onClick=${() => setDialog({ kind: "channel", group })}><${Icon} name="plus" size=${16} /></button>`}
          </h3>
          <ul>
            ${(groupChannels[group.id] || [])
              .map((id) => channels[id])
              .filter(Boolean)
              .map(
                (channel) => html`<${ChannelLink} key=${channel.id} channel=${channel}
                  communityId=${community.id} active=${channel.id === activeChannelId}
                  unread=${unread[channel.id] || 0} />`,
              )}
          </ul>
        </section>`,
      )}
      ${dialog && dialog.kind === "community" &&
      html`<${CommunitySettingsDialog} communityId=${community.id} onClose=${() => setDialog(null)} />`}
      ${dialog && dialog.kind === "group" &&
      html`<${GroupSettingsDialog} group=${dialog.group} communityId=${community.id} communityRole=${myRole}
        activeChannelId=${activeChannelId} onClose=${() => setDialog(null)} />`}
      ${dialog && dialog.kind === "invite" &&
      html`<${InviteDialog} community=${community} onClose=${() => setDialog(null)} />`}
      ${dialog && dialog.kind === "channel" &&
      html`<${CreateChannelDialog} group=${dialog.group} onClose=${() => setDialog(null)}
        onCreated=${(channel) => navigate(paths.community(community.id, channel.id))} />`}
    </nav>
  `;
}

function DmSidebar({ activeChannelId }) {
  const dms = useStore(app, (state) => state.dms);
  const unread = useStore(app, (state) => state.unread);
  const presence = useStore(app, (state) => state.presence);
  return html`
    <nav class="sidebar" aria-label="Direct messages">
      <header class="sidebar-header"><h2>Direct messages</h2></header>
      ${dms.length === 0 &&
      html`<p class="muted pad">No conversations yet. Open a member's profile in a community to message them.</p>`}
      <ul>
        ${dms.map((dm) => {
          const href = paths.dm(dm.channel.id);
          const active = dm.channel.id === activeChannelId;
          const count = unread[dm.channel.id] || 0;
          return html`<li key=${dm.channel.id}>
            <a href=${href} class=${"channel-link dm" + (active ? " active" : "") + (count ? " unread" : "")}
              aria-current=${active ? "page" : undefined} onClick=${go(href)}>
              <${Avatar} name=${dm.other_user.display_name} url=${dm.other_user.avatar_url}
                status=${presence[dm.other_user.id] || "offline"} size=${28} />
              <span class="channel-name">${dm.other_user.display_name}</span>
              ${count > 0 && html`<span class="pill" aria-label=${count + " unread"}>${count}</span>`}
            </a>
          </li>`;
        })}
      </ul>
    </nav>
  `;
}

function Welcome() {
  const me = useStore(app, (state) => state.me);
  const config = useStore(app, (state) => state.config);
  const communities = useStore(app, (state) => state.communities);
  const [dialog, setDialog] = useState(null);
  return html`
    <section class="welcome" aria-label="Welcome">
      <h1>Welcome${me ? ", " + (me.display_name || me.username) : ""}</h1>
      ${me && me.is_owner &&
      html`<p>You are the owner of this server. Create a community for your people, then invite them
        with a link.</p>`}
      ${me && me.is_owner && config &&
      html`<p class="e2e-choice">${config.e2e_enabled
        ? "End-to-end encryption is on: messages are encrypted in each member's browser or app, and the server stores only ciphertext (so it cannot search them). You can turn it off in Settings."
        : "End-to-end encryption is off: messages are stored readable by the server, which can search them. You can turn it on in Settings."}</p>`}
      <${E2eNotice} config=${config} me=${me} />
      ${communities.length === 0 && html`<p>You are not in any community yet.</p>`}
      <div class="row">
        <button type="button" class="primary" onClick=${() => setDialog("create")}>Create a community</button>
        <button type="button" onClick=${() => setDialog("join")}>Join with an invite</button>
      </div>
      ${dialog === "create" && html`<${CreateCommunityDialog} onClose=${() => setDialog(null)} />`}
      ${dialog === "join" && html`<${JoinCommunityDialog} onClose=${() => setDialog(null)} />`}
    </section>
  `;
}

export function Shell({ route }) {
  const loaded = useStore(app, (state) => state.loaded);
  const communities = useStore(app, (state) => state.communities);
  const channels = useStore(app, (state) => state.channels);
  const groups = useStore(app, (state) => state.groups);
  const groupChannels = useStore(app, (state) => state.groupChannels);
  const dms = useStore(app, (state) => state.dms);
  const me = useStore(app, (state) => state.me);
  const allMembers = useStore(app, (state) => state.members);
  const [navOpen, setNavOpen] = useState(false);
  const [membersOpen, setMembersOpen] = useState(() => window.innerWidth > 1100);

  const community = route.name === "community" ? communities.find((c) => c.id === route.communityId) : null;
  useEffect(() => setNavOpen(false), [route.channelId, route.communityId, route.name]);
  useEffect(() => {
    if (community && !groups[community.id]) loadCommunity(community.id).catch(() => {});
  }, [community && community.id]);

  // a community without a channel in the URL opens its first text channel
  useEffect(() => {
    if (!community || route.channelId || !groups[community.id]) return;
    for (const group of groups[community.id]) {
      const first = (groupChannels[group.id] || []).map((id) => channels[id]).find((c) => c && c.channel_type !== "voice");
      if (first) {
        navigate(paths.community(community.id, first.id), { replace: true });
        return;
      }
    }
  }, [community && community.id, route.channelId, groups, groupChannels]);

  if (!loaded) return html`<main class="loading-page" id="main"><${Spinner} label="Loading your communities" /></main>`;

  let sidebar;
  let content;
  if (route.name === "community" && !community) {
    content = html`<section class="welcome"><h1>Community not found</h1>
      <p>You are not a member of this community, or it no longer exists.</p></section>`;
  } else if (community) {
    const myRole = (allMembers[community.id] || []).find((m) => m.user_id === me.id)?.role || "member";
    const channel = route.channelId ? channels[route.channelId] : null;
    const canModerate = MODERATOR_ROLES.has(myRole) || me.is_admin || me.is_owner;
    sidebar = html`<${CommunitySidebar} community=${community} activeChannelId=${route.channelId} myRole=${myRole} />`;
    if (route.channelId && !channel) {
      content = html`<section class="welcome"><h1>Channel not available</h1>
        <p>This channel does not exist or you no longer have access to it.</p></section>`;
    } else if (channel) {
      content = html`
        <${ChannelView} key=${channel.id} channel=${channel} communityId=${community.id}
          title=${channel.name}
          icon=${ICONS[channel.channel_type] || "hash"}
          canModerate=${canModerate} onToggleMembers=${() => setMembersOpen(!membersOpen)}
          onOpenNav=${() => setNavOpen(true)} />
        ${membersOpen &&
        html`<${MembersPanel} communityId=${community.id} channelId=${channel.id} myRole=${myRole}
          onClose=${() => setMembersOpen(false)} />`}
      `;
    } else {
      content = html`<section class="welcome community-welcome"><h1>${community.name}</h1>
        ${community.description && html`<p class="community-description">${community.description}</p>`}
        ${community.welcome_message && html`<p class="community-welcome-message">${community.welcome_message}</p>`}
        <p>Pick a channel.</p></section>`;
    }
  } else {
    sidebar = html`<${DmSidebar} activeChannelId=${route.channelId} />`;
    const dm = route.channelId ? dms.find((item) => item.channel.id === route.channelId) : null;
    if (dm) {
      content = html`<${ChannelView} key=${dm.channel.id} channel=${dm.channel}
        title=${displayName(app.get(), dm.other_user.id)} icon="at" canModerate=${false} peerId=${dm.other_user.id}
        onOpenNav=${() => setNavOpen(true)} />`;
    } else {
      content = html`<${Welcome} />`;
    }
  }

  const inConversation = Boolean(route.channelId);
  // a community's theme colours apply to its whole shell (css/community.css); its custom CSS never
  const theme = community ? community.community_theme : null;
  const themeVars = themeStyle(theme);
  const tone = themeTone(theme);
  const themed = themeVars ? " community-themed" + (tone ? " themed-surfaces themed-" + tone : "") : "";
  return html`
    <div class=${"shell" + (navOpen ? " nav-open" : "") + (inConversation ? "" : " no-conversation") + themed}
      style=${themeVars}>
      <a class="skip-link" href="#composer-input">Skip to message box</a>
      <${ConnectionBanner} />
      <div class="nav-pane" onClick=${(event) => event.target.closest("a.channel-link") && setNavOpen(false)}>
        <${Rail} route=${route} />
        ${sidebar}
      </div>
      ${navOpen && html`<div class="nav-scrim" onClick=${() => setNavOpen(false)}></div>`}
      <main class="content" id="main">${content}</main>
    </div>
  `;
}

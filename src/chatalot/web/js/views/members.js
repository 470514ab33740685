// The members panel of a community, and what you can do with a member: message them, and, as a
// moderator, kick, ban, time out or warn them.

import { html, useState } from "../html.js";
import { useStore } from "../store.js";
import { app, toast } from "../state.js";
import { api } from "../api.js";
import { navigate, paths } from "../router.js";
import { refreshCommunities, refreshDms } from "../actions.js";
import { Avatar, Dialog, ErrorText, Field } from "./common.js";
import { Icon } from "../icons.js";

const RANK = { owner: 4, admin: 3, moderator: 2, member: 1 };

export function MembersPanel({ communityId, channelId, myRole, onClose }) {
  const members = useStore(app, (state) => state.members[communityId] || []);
  const presence = useStore(app, (state) => state.presence);
  const me = useStore(app, (state) => state.me);
  const [selected, setSelected] = useState(null);
  const online = members.filter((m) => presence[m.user_id] && presence[m.user_id] !== "offline");
  const offline = members.filter((m) => !presence[m.user_id] || presence[m.user_id] === "offline");
  const item = (member) => html`<li key=${member.user_id}>
    <button type="button" class="member" onClick=${() => setSelected(member)}>
      <${Avatar} name=${member.nickname || member.display_name} url=${member.avatar_url}
        status=${presence[member.user_id] || "offline"} size=${28} />
      <span class="member-name">${member.nickname || member.display_name}</span>
      ${member.role !== "member" && html`<span class="badge">${member.role}</span>`}
    </button>
  </li>`;
  return html`
    <aside class="members-panel" aria-label="Members">
      <header class="panel-header">
        <h2>Members</h2>
        <button type="button" class="icon" aria-label="Close members" onClick=${onClose}><${Icon} name="close" /></button>
      </header>
      <h3>Online — ${online.length}</h3>
      <ul>${online.map(item)}</ul>
      <h3>Offline — ${offline.length}</h3>
      <ul>${offline.map(item)}</ul>
      ${selected &&
      html`<${MemberDialog} member=${selected} me=${me} myRole=${myRole} communityId=${communityId}
        channelId=${channelId} onClose=${() => setSelected(null)} />`}
    </aside>
  `;
}

function MemberDialog({ member, me, myRole, communityId, channelId, onClose }) {
  const [action, setAction] = useState(null);
  const [reason, setReason] = useState("");
  const [minutes, setMinutes] = useState("10");
  const [error, setError] = useState(null);
  const self = member.user_id === me.id;
  const myRank = me.is_owner || me.is_admin ? 5 : RANK[myRole] || 0;
  const canModerate = !self && myRank >= 2 && myRank > (RANK[member.role] || 0);

  const message = async () => {
    try {
      const dm = await api.dms.open(member.user_id);
      await refreshDms();
      onClose();
      navigate(paths.dm(dm.channel.id));
    } catch (failure) {
      setError(failure.message);
    }
  };

  const block = () => {
    if (!confirm(`Block ${member.display_name}? Neither of you can then message the other directly.`)) return;
    api.users.block(member.user_id).then(() => toast("Blocked", "info"), (failure) => setError(failure.message));
  };
  const report = () => {
    const reason = prompt(`Report ${member.display_name} to the server's administrators. Why?`);
    if (!reason || !reason.trim()) return;
    api.reports.create("user", member.user_id, reason.trim()).then(
      () => toast("Report sent to the administrators", "info"),
      (failure) => setError(failure.message),
    );
  };

  const run = async (event) => {
    event.preventDefault();
    setError(null);
    const why = reason.trim() || null;
    try {
      if (action === "kick") await api.communities.kick(communityId, member.user_id);
      if (action === "ban") await api.communities.ban(communityId, member.user_id, { reason: why });
      if (action === "timeout") {
        await api.communities.timeout(communityId, channelId, {
          user_id: member.user_id,
          duration_seconds: Math.round(Number(minutes) * 60),
          reason: why,
        });
      }
      if (action === "warn") {
        await api.communities.warn(communityId, channelId, { user_id: member.user_id, reason: why || "" });
      }
      toast(`Done: ${action} ${member.display_name}`, "info");
      if (action === "kick" || action === "ban") await refreshCommunities();
      onClose();
    } catch (failure) {
      setError(failure.message);
    }
  };

  return html`
    <${Dialog} title=${member.nickname || member.display_name} onClose=${onClose}>
      <p class="muted">@${member.username} · ${member.role}</p>
      ${!self &&
      html`<div class="row">
        <button type="button" class="primary" onClick=${message}>Send a message</button>
        <button type="button" onClick=${block}>Block</button>
        <button type="button" onClick=${report}>Report</button>
      </div>`}
      ${canModerate &&
      html`<div class="row moderation" role="group" aria-label="Moderation">
        <button type="button" onClick=${() => setAction("warn")} disabled=${!channelId}>Warn</button>
        <button type="button" onClick=${() => setAction("timeout")} disabled=${!channelId}>Time out</button>
        <button type="button" class="danger" onClick=${() => setAction("kick")}>Kick</button>
        <button type="button" class="danger" onClick=${() => setAction("ban")}>Ban</button>
      </div>`}
      ${action &&
      html`<form onSubmit=${run}>
        ${action === "timeout" &&
        html`<${Field} label="Minutes" type="number" min="1" max="43200" value=${minutes}
          onInput=${(event) => setMinutes(event.target.value)} />`}
        ${action !== "kick" &&
        html`<${Field} label="Reason" value=${reason} required=${action === "warn"} autofocus
          onInput=${(event) => setReason(event.target.value)} />`}
        <button type="submit" class="danger">Confirm ${action}</button>
      </form>`}
      <${ErrorText} error=${error} />
      <div class="dialog-actions"><button type="button" onClick=${onClose}>Close</button></div>
    <//>
  `;
}

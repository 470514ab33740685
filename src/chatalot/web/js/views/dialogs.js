// Dialogs for creating and joining: a community (with its first group), a channel, an invite.

import { html, useEffect, useState } from "../html.js";
import { api } from "../api.js";
import { navigate, paths } from "../router.js";
import { refreshCommunities } from "../actions.js";
import { toast } from "../state.js";
import { Dialog, ErrorText, Field, useSubmit } from "./common.js";

export function CreateCommunityDialog({ onClose }) {
  const [name, setName] = useState("");
  const { busy, error, submit } = useSubmit(async () => {
    const community = await api.communities.create({ name: name.trim(), description: null });
    // a community starts with one public group, whose "general" channel everyone joins
    await api.groups.create({ community_id: community.id, name: "General", description: null, visibility: "public" });
    await refreshCommunities();
    onClose();
    navigate(paths.community(community.id));
  });
  return html`
    <${Dialog} title="Create a community" onClose=${onClose}>
      <form onSubmit=${submit}>
        <${Field} label="Community name" required autofocus maxlength="64" value=${name}
          onInput=${(event) => setName(event.target.value)} />
        <${ErrorText} error=${error} />
        <div class="dialog-actions">
          <button type="button" onClick=${onClose}>Cancel</button>
          <button type="submit" class="primary" disabled=${busy || !name.trim()}>Create</button>
        </div>
      </form>
    <//>
  `;
}

/** The code of an invite from what people paste: the code itself or an /invite/{code} link. */
export function inviteCodeFrom(text) {
  const value = text.trim();
  const match = value.match(/\/invite\/([A-Za-z0-9]+)\/?$/);
  return match ? match[1] : value;
}

export function JoinCommunityDialog({ onClose }) {
  const [code, setCode] = useState("");
  const [error, setError] = useState(null);
  const submit = (event) => {
    event.preventDefault();
    const value = inviteCodeFrom(code);
    if (!value) {
      setError("Paste an invite link or code.");
      return;
    }
    onClose();
    navigate(`/invite/${encodeURIComponent(value)}`);
  };
  return html`
    <${Dialog} title="Join a community" onClose=${onClose}>
      <form onSubmit=${submit}>
        <${Field} label="Invite link or code" required autofocus value=${code}
          onInput=${(event) => setCode(event.target.value)} />
        <${ErrorText} error=${error} />
        <div class="dialog-actions">
          <button type="button" onClick=${onClose}>Cancel</button>
          <button type="submit" class="primary">Continue</button>
        </div>
      </form>
    <//>
  `;
}

export function CreateChannelDialog({ group, onClose, onCreated }) {
  const [name, setName] = useState("");
  const [type, setType] = useState("text");
  const { busy, error, submit } = useSubmit(async () => {
    const channel = await api.groups.createChannel(group.id, { name: name.trim(), channel_type: type });
    await refreshCommunities();
    onClose();
    onCreated(channel);
  });
  return html`
    <${Dialog} title=${"New channel in " + group.name} onClose=${onClose}>
      <form onSubmit=${submit}>
        <${Field} label="Channel name" required autofocus maxlength="64" value=${name}
          onInput=${(event) => setName(event.target.value)} />
        <fieldset class="choices">
          <legend>Type</legend>
          ${[
            ["text", "Text"],
            ["voice", "Voice"],
            ["gallery", "Gallery"],
          ].map(
            ([value, label]) => html`<label class="checkbox">
              <input type="radio" name="channel-type" value=${value} checked=${type === value}
                onChange=${() => setType(value)} /> ${label}
            </label>`,
          )}
        </fieldset>
        <${ErrorText} error=${error} />
        <div class="dialog-actions">
          <button type="button" onClick=${onClose}>Cancel</button>
          <button type="submit" class="primary" disabled=${busy || !name.trim()}>Create</button>
        </div>
      </form>
    <//>
  `;
}

export function InviteDialog({ community, onClose }) {
  const [invite, setInvite] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api.communities
      .createInvite(community.id, { max_uses: null, expires_in_hours: 24 * 7 })
      .then(setInvite)
      .catch((failure) => setError(failure.message));
  }, [community.id]);
  const link = invite ? `${location.origin}/invite/${invite.code}` : "";
  return html`
    <${Dialog} title=${"Invite people to " + community.name} onClose=${onClose}>
      <${ErrorText} error=${error} />
      ${invite &&
      html`<p>Share this link (valid for 7 days):</p>
        <div class="row">
          <input class="grow" readonly value=${link} aria-label="Invite link" onFocus=${(event) => event.target.select()} />
          <button type="button" onClick=${() => {
            navigator.clipboard?.writeText(link).then(() => toast("Link copied", "info")).catch(() => {});
          }}>Copy</button>
        </div>`}
      <div class="dialog-actions"><button type="button" onClick=${onClose}>Done</button></div>
    <//>
  `;
}

/** /invite/{code}: what the invite leads to, and a button to join. */
export function InvitePage({ code }) {
  const [info, setInfo] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.communities.invite(code).then(setInfo).catch((failure) => setError(failure.message));
  }, [code]);
  const accept = async () => {
    setBusy(true);
    try {
      const result = await api.communities.acceptInvite(code);
      await refreshCommunities();
      navigate(paths.community(result.community_id), { replace: true });
    } catch (failure) {
      setError(failure.message);
      setBusy(false);
    }
  };
  return html`
    <main class="auth-page" id="main">
      <div class="auth-card">
        <h1>Invitation</h1>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        ${!info && !error && html`<p>Loading…</p>`}
        ${info &&
        html`<p>You are invited to join <strong>${info.community_name}</strong>
            (${info.member_count} ${info.member_count === 1 ? "member" : "members"}).</p>
          ${info.community_description && html`<p class="muted">${info.community_description}</p>`}
          <button class="primary" type="button" disabled=${busy} onClick=${accept} autofocus>Join</button>`}
        <p><a href="/channels/@me" onClick=${(event) => {
          event.preventDefault();
          navigate("/channels/@me");
        }}>Not now</a></p>
      </div>
    </main>
  `;
}

/** Channel settings for its owner and the community's managers: name, topic, slow mode,
 * read-only, archived. Others are refused by the server (403, shown). */
export function ChannelSettingsDialog({ channel, onClose }) {
  const [form, setForm] = useState({
    name: channel.name || "",
    topic: channel.topic || "",
    slow_mode_seconds: String(channel.slow_mode_seconds || 0),
    read_only: Boolean(channel.read_only),
    archived: Boolean(channel.archived),
  });
  const { busy, error, submit } = useSubmit(async () => {
    await api.channels.update(channel.id, {
      name: form.name.trim(),
      topic: form.topic.trim(),
      slow_mode_seconds: Number(form.slow_mode_seconds) || 0,
      read_only: form.read_only,
      archived: form.archived,
    });
    onClose();
  });
  const check = (key) => (event) => setForm({ ...form, [key]: event.target.checked });
  return html`
    <${Dialog} title=${"Channel settings: " + (channel.name || "")} onClose=${onClose}>
      <form onSubmit=${submit}>
        <${Field} label="Name" required maxlength="64" value=${form.name} onInput=${(event) => setForm({ ...form, name: event.target.value })} />
        <${Field} label="Topic" maxlength="512" value=${form.topic} onInput=${(event) => setForm({ ...form, topic: event.target.value })} />
        <${Field} label="Slow mode (seconds between messages, 0 = off)" type="number" min="0" max="86400"
          value=${form.slow_mode_seconds} onInput=${(event) => setForm({ ...form, slow_mode_seconds: event.target.value })} />
        <label class="checkbox"><input type="checkbox" checked=${form.read_only} onChange=${check("read_only")} /> Read-only (only moderators write)</label>
        <label class="checkbox"><input type="checkbox" checked=${form.archived} onChange=${check("archived")} /> Archived (nobody writes)</label>
        <${ErrorText} error=${error} />
        <div class="dialog-actions">
          <button type="button" onClick=${onClose}>Cancel</button>
          <button type="submit" class="primary" disabled=${busy}>Save</button>
        </div>
      </form>
    <//>
  `;
}

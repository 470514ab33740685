// Group settings for the group's owner and admins: name, description, accent colour and
// visibility; deleting the group's channels and (its owner) the group itself, each confirmed.

import { html, useState } from "../html.js";
import { api } from "../api.js";
import { useStore } from "../store.js";
import { app, toast } from "../state.js";
import { refreshCommunities } from "../actions.js";
import { navigate, paths } from "../router.js";
import { Dialog, ErrorText, Field, useSubmit } from "./common.js";
import { ConfirmButton, focusHeading } from "./community.js";
import { sixDigits } from "./community_theme.js";

/** Whether the signed-in user may delete ``group`` (spec: a regular group's owner; for a
 * personal group its creator or a community moderator). The server decides in the end. */
export function mayDeleteGroup(group, me, communityRole) {
  if (!group || !me) return false;
  if (group.owner_id === me.id) return true;
  const moderator = ["owner", "admin", "moderator"].includes(communityRole) || me.is_owner;
  return Boolean(group.assigned_member_id) && moderator;
}

export function GroupSettingsDialog({ group, communityId, communityRole, activeChannelId, onClose }) {
  const me = useStore(app, (state) => state.me);
  const channels = useStore(app, (state) => state.channels);
  const channelIds = useStore(app, (state) => state.groupChannels[group.id]) || [];
  const [form, setForm] = useState({
    name: group.name || "",
    description: group.description || "",
    accent: group.accent_color || "",
    visibility: group.visibility || "public",
  });
  const [channelError, setChannelError] = useState(null);
  const [deleteError, setDeleteError] = useState(null);
  const { busy, error, submit } = useSubmit(async () => {
    const body = {
      name: form.name.trim(),
      description: form.description.trim(),
      visibility: form.visibility,
    };
    const accent = form.accent.trim();
    // "" clears the colour (our server honours it; the original answered 400), so it is sent
    // only when the user emptied a colour the group had
    if (accent) body.accent_color = accent;
    else if (group.accent_color) body.accent_color = "";
    await api.manage.updateGroup(group.id, body);
    await refreshCommunities();
    toast("Group saved", "info");
    onClose();
  });
  const set = (key) => (event) => setForm({ ...form, [key]: event.target.value });
  const deleteChannel = async (channel) => {
    setChannelError(null);
    try {
      await api.manage.deleteChannel(group.id, channel.id);
      await refreshCommunities();
      focusHeading("gs-channels");
      if (channel.id === activeChannelId) navigate(paths.community(communityId), { replace: true });
    } catch (failure) {
      setChannelError(failure.message);
    }
  };
  const deleteGroup = async () => {
    setDeleteError(null);
    try {
      await api.manage.deleteGroup(group.id);
      onClose();
      await refreshCommunities();
      if (channelIds.includes(activeChannelId)) navigate(paths.community(communityId), { replace: true });
      toast(`Group ${group.name} deleted`, "info");
    } catch (failure) {
      setDeleteError(failure.message);
    }
  };
  const list = channelIds.map((id) => channels[id]).filter(Boolean);
  return html`
    <${Dialog} title=${"Group settings: " + group.name} onClose=${onClose} wide labelledBy="group-settings-title">
      <form onSubmit=${submit}>
        <${Field} label="Group name" required maxlength="64" value=${form.name} onInput=${set("name")} />
        <${Field} label="Description" multiline rows="2" maxlength="2048" value=${form.description}
          onInput=${set("description")} />
        <div class="field">
          <label for="group-accent">Accent colour (hex, empty for none)</label>
          <div class="row">
            <input type="color" class="swatch" aria-label="Accent colour picker"
              value=${sixDigits(form.accent) || "#5b6cff"} onInput=${set("accent")} />
            <input id="group-accent" type="text" class="hex" maxlength="9" spellcheck=${false}
              autocomplete="off" placeholder="#rrggbb" value=${form.accent} onInput=${set("accent")} />
            ${form.accent && html`<button type="button" onClick=${() => setForm({ ...form, accent: "" })}>Clear colour</button>`}
          </div>
        </div>
        <fieldset class="choices">
          <legend>Visibility</legend>
          ${[
            ["public", "Public: every community member can see and join it"],
            ["private", "Private: members join by invitation"],
          ].map(
            ([value, label]) => html`<label class="checkbox" key=${value}>
              <input type="radio" name="group-visibility" value=${value} checked=${form.visibility === value}
                onChange=${() => setForm({ ...form, visibility: value })} /> ${label}
            </label>`,
          )}
        </fieldset>
        <${ErrorText} error=${error} />
        <div class="row"><button type="submit" class="primary" disabled=${busy || !form.name.trim()}>Save group</button></div>
      </form>
      <section class="manage-section" aria-labelledby="gs-channels">
        <h3 id="gs-channels" tabindex="-1">Channels</h3>
        ${list.length === 0 && html`<p class="muted">No channels you are in.</p>`}
        <ul class="plain-list manage-list">
          ${list.map(
            (channel) => html`<li key=${channel.id}>
              <span class="grow">${channel.name}</span>
              <${ConfirmButton} label=${"Delete channel " + channel.name}
                question=${`Delete ${channel.name} and all its messages?`}
                confirmLabel=${"Yes, delete " + channel.name} onConfirm=${() => deleteChannel(channel)} />
            </li>`,
          )}
        </ul>
        <${ErrorText} error=${channelError} />
      </section>
      ${mayDeleteGroup(group, me, communityRole) &&
      html`<section class="manage-section danger-zone" aria-labelledby="gs-delete">
        <h3 id="gs-delete">Delete this group</h3>
        <p class="muted">Its channels and their messages are deleted too. This cannot be undone.</p>
        <${ConfirmButton} label="Delete group" question=${`Delete ${group.name} for everyone?`}
          confirmLabel=${"Yes, delete " + group.name} onConfirm=${deleteGroup} />
        <${ErrorText} error=${deleteError} />
      </section>`}
      <div class="dialog-actions"><button type="button" onClick=${onClose}>Close</button></div>
    <//>
  `;
}

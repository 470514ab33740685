// The call of a voice channel: who is in it (speaking shown), join, mute, leave.

import { html } from "../html.js";
import { useStore } from "../store.js";
import { app, displayName } from "../state.js";
import { call, hangUp, joinCall, toggleMute } from "../voice.js";
import { Avatar } from "./common.js";

export function VoicePanel({ channel, communityId }) {
  const state = useStore(call);
  const users = useStore(app, (s) => s.users);
  const participants = state.participants[channel.id] || [];
  const inThisCall = state.channelId === channel.id;
  const names = app.get();
  return html`
    <section class="voice-panel" aria-label="Voice call">
      <ul class="voice-participants" aria-live="polite">
        ${participants.length === 0 && html`<li class="muted">Nobody is in the call.</li>`}
        ${participants.map((userId) => {
          const name = displayName(names, userId, communityId);
          const speaking = state.speaking[userId];
          return html`<li key=${userId} class=${"voice-participant" + (speaking ? " speaking" : "")}>
            <${Avatar} name=${name} url=${users[userId] && users[userId].avatar_url} />
            <span>${name}</span>
            ${speaking && html`<span class="visually-hidden">(speaking)</span>`}
          </li>`;
        })}
      </ul>
      <div class="row">
        ${inThisCall
          ? html`
              <button type="button" aria-pressed=${state.muted ? "true" : "false"} onClick=${toggleMute}>
                ${state.muted ? "Unmute" : "Mute"}
              </button>
              <button type="button" class="danger" onClick=${() => hangUp(true)}>Leave call</button>
            `
          : html`<button type="button" class="primary" onClick=${() => joinCall(channel.id)}>Join call</button>`}
      </div>
      ${state.error && html`<p class="error" role="alert">${state.error}</p>`}
    </section>
  `;
}

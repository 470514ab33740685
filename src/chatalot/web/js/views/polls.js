// Polls of a channel (a side panel): create one (2-10 options, multi-select, anonymous, expiry),
// vote and take a vote back, close; kept current by the poll_* events.

import { html, useEffect, useState } from "../html.js";
import { useStore } from "../store.js";
import { app, toast } from "../state.js";
import { api } from "../api.js";
import { realtime } from "../ws.js";
import { formatFull } from "../time.js";
import { Icon } from "../icons.js";
import { Dialog, ErrorText, Field, Spinner, useSubmit } from "./common.js";

function CreatePollDialog({ channel, onClose, onCreated }) {
  const [question, setQuestion] = useState("");
  const [options, setOptions] = useState(["", ""]);
  const [multi, setMulti] = useState(false);
  const [anonymous, setAnonymous] = useState(false);
  const [hours, setHours] = useState("");
  const { busy, error, submit } = useSubmit(async () => {
    const body = {
      question: question.trim(),
      options: options.map((option) => option.trim()).filter(Boolean),
      multi_select: multi,
      anonymous,
      expires_in_minutes: hours ? Math.round(Number(hours) * 60) : null,
    };
    onCreated(await api.polls.create(channel.id, body));
    onClose();
  });
  const setOption = (index, value) => setOptions(options.map((item, at) => (at === index ? value : item)));
  return html`
    <${Dialog} title="New poll" onClose=${onClose}>
      <form onSubmit=${submit}>
        <${Field} label="Question" required autofocus maxlength="500" value=${question}
          onInput=${(event) => setQuestion(event.target.value)} />
        ${options.map(
          (option, index) => html`<div class="row" key=${index}>
            <div class="grow"><${Field} label=${"Option " + (index + 1)} maxlength="200" value=${option}
              onInput=${(event) => setOption(index, event.target.value)} /></div>
            ${options.length > 2 &&
            html`<button type="button" class="icon" aria-label=${"Remove option " + (index + 1)}
              onClick=${() => setOptions(options.filter((_, at) => at !== index))}><${Icon} name="close" size=${16} /></button>`}
          </div>`,
        )}
        ${options.length < 10 &&
        html`<button type="button" onClick=${() => setOptions([...options, ""])}>Add an option</button>`}
        <label class="checkbox"><input type="checkbox" checked=${multi} onChange=${(event) => setMulti(event.target.checked)} /> Several answers allowed</label>
        <label class="checkbox"><input type="checkbox" checked=${anonymous} onChange=${(event) => setAnonymous(event.target.checked)} /> Anonymous votes</label>
        <${Field} label="Closes after hours (empty: stays open)" type="number" min="0.1" max="168" step="0.1"
          value=${hours} onInput=${(event) => setHours(event.target.value)} />
        <${ErrorText} error=${error} />
        <div class="dialog-actions">
          <button type="button" onClick=${onClose}>Cancel</button>
          <button type="submit" class="primary" disabled=${busy}>Create poll</button>
        </div>
      </form>
    <//>
  `;
}

function Poll({ poll, me, canClose, onChange }) {
  const total = poll.votes.reduce((sum, vote) => sum + vote.count, 0);
  const expired = poll.expires_at && new Date(poll.expires_at) < new Date();
  const open = !poll.closed && !expired;
  const mine = (index) => (poll.votes[index].voter_ids || []).includes(me.id);
  const act = (promise) => promise.then(onChange, (failure) => toast(failure.message));
  return html`<li class="card poll">
    <p><strong>${poll.question}</strong></p>
    <ul class="plain-list">
      ${poll.options.map((option, index) => {
        const count = poll.votes[index] ? poll.votes[index].count : 0;
        const share = total ? Math.round((100 * count) / total) : 0;
        const chosen = !poll.anonymous && mine(index);
        return html`<li key=${index} class="poll-option">
          <button type="button" class=${chosen ? "chosen" : ""} disabled=${!open}
            aria-pressed=${chosen ? "true" : "false"}
            onClick=${() => act(chosen ? api.polls.unvote(poll.id, index) : api.polls.vote(poll.id, index))}>
            <span class="poll-bar" style=${`width:${share}%`}></span>
            <span class="poll-label">${option}</span>
            <span class="poll-count">${count} (${share}%)</span>
          </button>
        </li>`;
      })}
    </ul>
    <p class="muted small">
      ${total} ${total === 1 ? "vote" : "votes"}${poll.multi_select ? " · several answers" : ""}${poll.anonymous ? " · anonymous" : ""}
      ${poll.closed ? " · closed" : expired ? " · ended" : poll.expires_at ? " · ends " + formatFull(poll.expires_at) : ""}
    </p>
    ${open && canClose && html`<button type="button" class="small" onClick=${() => act(api.polls.close(poll.id))}>Close poll</button>`}
  </li>`;
}

export function PollsPanel({ channel, canModerate, onClose }) {
  const me = useStore(app, (state) => state.me);
  const [polls, setPolls] = useState(null);
  const [creating, setCreating] = useState(false);
  const load = () => api.polls.list(channel.id).then(setPolls, (failure) => toast(failure.message));
  useEffect(() => {
    load();
    const refresh = (frame) => frame.channel_id === channel.id && load();
    const stops = ["poll_created", "poll_voted", "poll_vote_removed", "poll_closed"].map((type) => realtime.on(type, refresh));
    return () => stops.forEach((stop) => stop());
  }, [channel.id]);
  return html`<aside class="side-panel" aria-label="Polls">
    <header class="panel-header">
      <h2>Polls</h2>
      <button type="button" class="icon" aria-label="Close polls" onClick=${onClose}><${Icon} name="close" /></button>
    </header>
    <div class="pad"><button type="button" class="primary" onClick=${() => setCreating(true)}>New poll</button></div>
    ${!polls && html`<${Spinner} />`}
    ${polls && polls.length === 0 && html`<p class="muted pad">No polls in this channel yet.</p>`}
    <ul class="plain-list pins">
      ${(polls || []).map(
        (poll) => html`<${Poll} key=${poll.id} poll=${poll} me=${me} onChange=${load}
          canClose=${canModerate || poll.created_by === me.id} />`,
      )}
    </ul>
    ${creating && html`<${CreatePollDialog} channel=${channel} onClose=${() => setCreating(false)} onCreated=${load} />`}
  </aside>`;
}

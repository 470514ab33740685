// The message box: Enter sends, Shift+Enter starts a new line, Up in an empty box edits your
// last message, Escape cancels a reply or an edit; typing is announced; files and images are
// uploaded with a progress bar and sent as a file message. The emoji picker inserts at the
// cursor; the GIF picker (shown when the server has GIPHY) sends the chosen GIF's URL.

import { html, useEffect, useRef, useState } from "../html.js";
import { useStore } from "../store.js";
import { api } from "../api.js";
import { app, toast } from "../state.js";
import { decodeMessage } from "../content.js";
import { decryptedResult, rememberOwnBytes } from "../e2e/plaintexts.js";
import { encryptionRequired, sealText } from "../e2e/outgoing.js";
import { editMessage, sendFileMessage, sendText, sendTyping, stopTyping } from "../actions.js";
import { Dialog, ErrorText, Field, useSubmit } from "./common.js";
import { replyPreviewText } from "./messages.js";
import { Icon } from "../icons.js";
import { EmojiPicker, GifPicker, gifSupport, probeGifs } from "./pickers.js";

const MAX_BYTES = 4000;

function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Send the box's text later (at most 30 days ahead); the server delivers it. */
function ScheduleDialog({ channel, text, onClose, onScheduled }) {
  const [when, setWhen] = useState(localInput(new Date(Date.now() + 60 * 60 * 1000)));
  const { busy, error, submit } = useSubmit(async () => {
    const at = new Date(when);
    if (Number.isNaN(at.getTime())) throw new Error("Choose a date and time.");
    // encrypted now (the server delivers the bytes as they are); the preview the server keeps
    // is left out then, since it would be readable there
    const { ciphertext, nonce } = await sealText(channel.id, text);
    const encrypted = encryptionRequired();
    if (encrypted) await rememberOwnBytes(ciphertext, text);
    await api.scheduled.create({
      channel_id: channel.id,
      ciphertext: JSON.stringify(ciphertext),
      nonce: JSON.stringify(nonce),
      scheduled_for: at.toISOString(),
      ...(encrypted ? {} : { content_preview: text.slice(0, 200) }),
    });
    toast(`Scheduled for ${at.toLocaleString()} (see Saved)`, "info");
    onScheduled();
    onClose();
  });
  return html`<${Dialog} title="Schedule this message" onClose=${onClose}>
    <form onSubmit=${submit}>
      <p class="muted">${text.slice(0, 200)}</p>
      <${Field} label="Send at" type="datetime-local" required value=${when}
        min=${localInput(new Date(Date.now() + 60 * 1000))}
        max=${localInput(new Date(Date.now() + 30 * 86_400_000))}
        onInput=${(event) => setWhen(event.target.value)} />
      <${ErrorText} error=${error} />
      <div class="dialog-actions">
        <button type="button" onClick=${onClose}>Cancel</button>
        <button type="submit" class="primary" disabled=${busy}>Schedule</button>
      </div>
    </form>
  <//>`;
}

const MENTION = /(^|\s)@([A-Za-z0-9_.-]{0,32})$/;

/** Members whose username or name starts with what follows the "@" before the cursor. */
function mentionCandidates(channel, communityId, query) {
  const state = app.get();
  let people;
  if (communityId) {
    people = (state.members[communityId] || []).map((m) => ({ id: m.user_id, username: m.username, name: m.nickname || m.display_name }));
  } else {
    const dm = state.dms.find((item) => item.channel.id === channel.id);
    people = dm ? [{ id: dm.other_user.id, username: dm.other_user.username, name: dm.other_user.display_name }] : [];
  }
  const needle = query.toLowerCase();
  const found = people.filter(
    (person) => person.id !== state.me?.id && (person.username.toLowerCase().startsWith(needle) || (person.name || "").toLowerCase().startsWith(needle)),
  );
  if (communityId && "everyone".startsWith(needle)) found.push({ id: "everyone", username: "everyone", name: "Notify everyone here" });
  return found.slice(0, 8);
}

export function Composer({ channel, communityId, threadId = null, disabledReason, replyTo, onCancelReply, editing, onEditDone, onStartEdit }) {
  const [text, setText] = useState("");
  const [mention, setMention] = useState(null); // {query, start, options, active}
  const [scheduling, setScheduling] = useState(false);
  const [uploads, setUploads] = useState([]); // {name, progress, preview}
  const [picker, setPicker] = useState(null); // "emoji" | "gif" | null
  const gifs = useStore(gifSupport, (state) => state.available);
  const box = useRef(null);
  const fileInput = useRef(null);
  const listId = threadId ? "thread-mention-list" : "mention-list";

  useEffect(() => {
    if (editing) {
      setText(editing.text);
      requestAnimationFrame(() => box.current && box.current.focus());
    }
  }, [editing && editing.message.id]);
  useEffect(() => {
    if (replyTo && box.current) box.current.focus();
  }, [replyTo && replyTo.id]);
  useEffect(() => {
    setText("");
    setPicker(null);
  }, [channel.id]);
  useEffect(() => {
    if (!threadId) probeGifs();
  }, []);
  useEffect(() => {
    const area = box.current;
    if (!area) return;
    area.style.height = "auto";
    area.style.height = Math.min(area.scrollHeight, 240) + "px";
  }, [text]);

  if (disabledReason) {
    return html`<div class="composer disabled" role="note">${disabledReason}</div>`;
  }

  const submit = () => {
    const value = text.trim();
    if (!value) return;
    if (new TextEncoder().encode(value).length > MAX_BYTES) {
      toast(`A message can be at most ${MAX_BYTES} bytes.`);
      return;
    }
    if (editing) {
      if (value !== editing.text && !editMessage(editing.message.id, value)) return;
      onEditDone();
      setText("");
      return;
    }
    if (sendText(channel.id, value, { replyTo: replyTo ? replyTo.id : null, threadId })) {
      setText("");
      stopTyping(channel.id);
      if (onCancelReply) onCancelReply();
    }
  };

  const pickMention = (person) => {
    const area = box.current;
    const before = text.slice(0, mention.start) + "@" + person.username + " ";
    const after = text.slice(area.selectionStart);
    setText(before + after);
    setMention(null);
    requestAnimationFrame(() => {
      area.focus();
      area.setSelectionRange(before.length, before.length);
    });
  };

  const closePicker = (refocus) => {
    setPicker(null);
    if (refocus) requestAnimationFrame(() => box.current && box.current.focus());
  };

  const insertAtCursor = (value) => {
    const area = box.current;
    const start = area ? area.selectionStart : text.length;
    const end = area ? area.selectionEnd : text.length;
    const needsSpace = value.startsWith(":") && start > 0 && !/\s/.test(text[start - 1]);
    const piece = (needsSpace ? " " : "") + value;
    setText(text.slice(0, start) + piece + text.slice(end));
    setPicker(null);
    requestAnimationFrame(() => {
      if (!area) return;
      area.focus();
      area.setSelectionRange(start + piece.length, start + piece.length);
    });
  };

  const sendGif = (gif) => {
    closePicker(true);
    if (sendText(channel.id, gif.url, { threadId })) stopTyping(channel.id);
  };

  const onKeyDown = (event) => {
    if (mention && mention.options.length) {
      const count = mention.options.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : count - 1;
        setMention({ ...mention, active: (mention.active + step) % count });
        return;
      }
      if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
        event.preventDefault();
        pickMention(mention.options[mention.active]);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        setMention(null);
        return;
      }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === "Escape") {
      if (editing) {
        onEditDone();
        setText("");
      } else if (replyTo) onCancelReply();
    } else if (event.key === "ArrowUp" && !text && !editing) {
      const me = app.get().me;
      const items = app.get().messages[channel.id]?.items || [];
      const last = [...items]
        .reverse()
        .find((item) => item.sender_id === me.id && !item.pending && !item.failed && (item.thread_id || null) === threadId);
      if (last) {
        const content = decodeMessage(last, decryptedResult(last));
        if (content.kind === "text") {
          event.preventDefault();
          onStartEdit(last, content.text);
        }
      }
    }
  };

  const onInput = (event) => {
    const value = event.target.value;
    setText(value);
    if (value && !editing) sendTyping(channel.id);
    const match = MENTION.exec(value.slice(0, event.target.selectionStart));
    if (match) {
      const options = mentionCandidates(channel, communityId, match[2]);
      setMention(options.length ? { query: match[2], start: match.index + match[1].length, options, active: 0 } : null);
    } else if (mention) setMention(null);
  };

  const uploadFiles = async (files) => {
    for (const file of files) {
      const entry = {
        key: Math.random().toString(36).slice(2),
        name: file.name,
        progress: 0,
        preview: file.type.startsWith("image/") ? URL.createObjectURL(file) : null,
      };
      setUploads((list) => [...list, entry]);
      const form = new FormData();
      form.append("file", file);
      form.append("name", file.name);
      form.append("channel_id", channel.id);
      try {
        const result = await api.files.upload(form, (progress) =>
          setUploads((list) => list.map((item) => (item.key === entry.key ? { ...item, progress } : item))),
        );
        sendFileMessage(channel.id, { file_id: result.id, filename: file.name, size: result.size_bytes });
      } catch (failure) {
        toast(`${file.name}: ${failure.message}`);
      } finally {
        if (entry.preview) URL.revokeObjectURL(entry.preview);
        setUploads((list) => list.filter((item) => item.key !== entry.key));
      }
    }
  };

  const onPaste = (event) => {
    const files = [...(event.clipboardData?.files || [])];
    if (files.length) {
      event.preventDefault();
      uploadFiles(files);
    }
  };
  const onDrop = (event) => {
    const files = [...(event.dataTransfer?.files || [])];
    if (files.length) {
      event.preventDefault();
      uploadFiles(files);
    }
  };

  const placeholder = threadId
    ? "Reply in thread"
    : channel.channel_type === "dm"
      ? "Message"
      : `Message #${channel.name || ""}`;
  return html`
    <form class="composer" onSubmit=${(event) => {
      event.preventDefault();
      submit();
    }} onDragOver=${(event) => event.preventDefault()} onDrop=${onDrop}>
      ${replyTo &&
      html`<div class="composer-context">
        <span>Replying to <strong>${replyPreviewText(replyTo)}</strong></span>
        <button type="button" class="link" onClick=${onCancelReply}>Cancel</button>
      </div>`}
      ${editing &&
      html`<div class="composer-context">
        <span>Editing your message (Escape to cancel)</span>
        <button type="button" class="link" onClick=${() => {
          onEditDone();
          setText("");
        }}>Cancel</button>
      </div>`}
      ${uploads.map(
        (item) => html`<div class="upload" key=${item.key}>
          ${item.preview && html`<img src=${item.preview} alt="" class="upload-preview" />`}
          <span>${item.name}</span>
          <progress max="1" value=${item.progress} aria-label=${"Uploading " + item.name}></progress>
        </div>`,
      )}
      <div class="composer-row">
        <button type="button" class="icon" aria-label="Attach a file" title="Attach a file"
          onClick=${() => fileInput.current.click()}><${Icon} name="paperclip" /></button>
        <input type="file" multiple hidden ref=${fileInput} onChange=${(event) => {
          uploadFiles([...event.target.files]);
          event.target.value = "";
        }} />
        <label class="visually-hidden" for=${threadId ? "thread-composer-input" : "composer-input"}>${threadId ? "Reply in thread" : placeholder}</label>
        ${mention &&
        html`<ul class="mention-list" id=${listId} role="listbox" aria-label="People to mention">
          ${mention.options.map(
            (person, index) => html`<li key=${person.id} id=${listId + "-" + index} role="option"
              aria-selected=${index === mention.active ? "true" : "false"}
              class=${index === mention.active ? "active" : ""}
              onMouseDown=${(event) => {
                event.preventDefault();
                pickMention(person);
              }}>
              <strong>@${person.username}</strong> <span class="muted">${person.name}</span>
            </li>`,
          )}
        </ul>`}
        <textarea
          id=${threadId ? "thread-composer-input" : "composer-input"}
          ref=${box}
          rows="1"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded=${mention ? "true" : "false"}
          aria-controls=${listId}
          aria-activedescendant=${mention ? listId + "-" + mention.active : undefined}
          placeholder=${placeholder}
          value=${text}
          onInput=${onInput}
          onKeyDown=${onKeyDown}
          onPaste=${onPaste}
          onBlur=${() => stopTyping(channel.id)}
        ></textarea>
        ${!editing && !threadId &&
        html`<button type="button" class="icon" aria-label="Schedule" title="Send later"
          disabled=${!text.trim()} onClick=${() => setScheduling(true)}><${Icon} name="clock" /></button>`}
        <span class="picker-anchor">
          <button type="button" class="icon" aria-label="Emoji" title="Emoji" data-picker-toggle
            aria-expanded=${picker === "emoji" ? "true" : "false"} aria-haspopup="dialog"
            onClick=${() => setPicker(picker === "emoji" ? null : "emoji")}><${Icon} name="smile" /></button>
          ${gifs === true && !editing &&
          html`<button type="button" class="icon gif-toggle" aria-label="GIF" title="Send a GIF" data-picker-toggle
            aria-expanded=${picker === "gif" ? "true" : "false"} aria-haspopup="dialog"
            onClick=${() => setPicker(picker === "gif" ? null : "gif")}>GIF</button>`}
          ${picker === "emoji" &&
          html`<${EmojiPicker} communityId=${communityId} onPick=${insertAtCursor} onClose=${closePicker} />`}
          ${picker === "gif" && gifs === true &&
          html`<${GifPicker} onPick=${sendGif} onClose=${closePicker} />`}
        </span>
        <button type="submit" class="primary send" aria-label="Send"><${Icon} name="send" size=${18} /></button>
      </div>
    </form>
    ${scheduling &&
    html`<${ScheduleDialog} channel=${channel} text=${text.trim()} onClose=${() => setScheduling(false)}
      onScheduled=${() => setText("")} />`}
  `;
}

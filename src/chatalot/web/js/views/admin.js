// The admin panel (/admin, instance admins): users, registration invites, instance settings,
// reports, the audit log, files, announcements.

import { html, useEffect, useState } from "../html.js";
import { useStore } from "../store.js";
import { app, toast } from "../state.js";
import { api } from "../api.js";
import { navigate } from "../router.js";
import { ErrorText, Field, Spinner } from "./common.js";
import { formatFull } from "../time.js";

const TABS = [
  ["users", "Users"],
  ["invites", "Invites"],
  ["settings", "Settings"],
  ["reports", "Reports"],
  ["audit", "Audit log"],
  ["files", "Files"],
  ["announcements", "Announcements"],
];

/** Loads once (and again on reload()), with the error shown in place. */
function useLoad(load, deps = []) {
  const [state, setState] = useState({ data: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((current) => ({ ...current, error: null }));
    load()
      .then((data) => live && setState({ data, error: null }))
      .catch((error) => live && setState({ data: null, error: error.message }));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((n) => n + 1) };
}

async function attempt(action, done) {
  try {
    await action();
    if (done) toast(done, "info");
    return true;
  } catch (failure) {
    toast(failure.message);
    return false;
  }
}

function Users({ me }) {
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const { data, error, reload } = useLoad(() => api.admin.users({ search: query, limit: 100 }), [query]);
  return html`<section aria-labelledby="admin-users-h">
    <h2 id="admin-users-h">Users</h2>
    <form class="row" role="search" onSubmit=${(event) => {
      event.preventDefault();
      setQuery(search.trim());
    }}>
      <label class="visually-hidden" for="admin-user-search">Search users</label>
      <input id="admin-user-search" class="grow" placeholder="Username, name or email" value=${search}
        onInput=${(event) => setSearch(event.target.value)} />
      <button type="submit">Search</button>
    </form>
    <${ErrorText} error=${error} />
    ${!data && !error && html`<${Spinner} />`}
    <table class="admin-table">
      <thead><tr><th scope="col">User</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        ${(data || []).map(
          (user) => html`<tr key=${user.id}>
            <td><strong>${user.display_name}</strong> <span class="muted">@${user.username}</span></td>
            <td>${user.email}</td>
            <td>${user.is_owner ? "owner" : user.is_admin ? "admin" : "member"}</td>
            <td>${user.suspended_at ? html`<span class="error">suspended</span>` : "active"}</td>
            <td><div class="row">
              ${user.id !== me.id && !user.is_owner &&
              (user.suspended_at
                ? html`<button type="button" onClick=${() => attempt(() => api.admin.unsuspend(user.id), "Unsuspended").then(reload)}>Unsuspend</button>`
                : !user.is_admin &&
                  html`<button type="button" onClick=${() => {
                    const reason = prompt(`Suspend ${user.username}? Reason (optional):`);
                    if (reason !== null) attempt(() => api.admin.suspend(user.id, reason.trim() || null), "Suspended").then(reload);
                  }}>Suspend</button>`)}
              ${me.is_owner && user.id !== me.id && !user.is_owner &&
              html`<button type="button" onClick=${() => attempt(() => api.admin.setAdmin(user.id, !user.is_admin), "Saved").then(reload)}>
                ${user.is_admin ? "Revoke admin" : "Make admin"}</button>`}
              ${user.id !== me.id && !user.is_owner && !user.is_admin &&
              html`<button type="button" class="danger" onClick=${() => {
                if (confirm(`Delete ${user.username} and everything they own? This cannot be undone.`))
                  attempt(() => api.admin.deleteUser(user.id), "Deleted").then(reload);
              }}>Delete</button>`}
            </div></td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function Invites() {
  const { data, error, reload } = useLoad(() => api.admin.invites());
  const [hours, setHours] = useState("168");
  const [uses, setUses] = useState("1");
  const create = (event) => {
    event.preventDefault();
    attempt(
      () =>
        api.admin.createInvite({
          max_uses: uses ? Number(uses) : null,
          expires_in_hours: hours ? Number(hours) : null,
        }),
      "Invite created",
    ).then(reload);
  };
  return html`<section aria-labelledby="admin-invites-h">
    <h2 id="admin-invites-h">Registration invites</h2>
    <form class="row" onSubmit=${create}>
      <${Field} label="Uses (empty: unlimited)" type="number" min="1" value=${uses} onInput=${(event) => setUses(event.target.value)} />
      <${Field} label="Valid for hours (empty: forever)" type="number" min="1" max="8760" value=${hours}
        onInput=${(event) => setHours(event.target.value)} />
      <button type="submit" class="primary">Create invite</button>
    </form>
    <${ErrorText} error=${error} />
    <table class="admin-table">
      <thead><tr><th scope="col">Code</th><th scope="col">Used</th><th scope="col">Expires</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        ${(data || []).map(
          (invite) => html`<tr key=${invite.id}>
            <td><code>${invite.code}</code></td>
            <td>${invite.used_count}${invite.max_uses != null ? " / " + invite.max_uses : ""}</td>
            <td>${invite.expires_at ? formatFull(invite.expires_at) : "never"}</td>
            <td><button type="button" class="danger" onClick=${() => attempt(() => api.admin.deleteInvite(invite.id), "Deleted").then(reload)}>Delete</button></td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function Settings() {
  const { data, error, reload } = useLoad(() => api.admin.settings());
  const [values, setValues] = useState({});
  useEffect(() => data && setValues(data), [data]);
  const save = (event) => {
    event.preventDefault();
    attempt(async () => {
      await api.admin.saveSettings(values);
      app.set({ config: await api.auth.config() });
    }, "Settings saved").then(reload);
  };
  return html`<section aria-labelledby="admin-settings-h">
    <h2 id="admin-settings-h">Instance settings</h2>
    <${ErrorText} error=${error} />
    ${data &&
    html`<p class="notice" data-e2e=${data.e2e_enabled === "true" ? "on" : "off"}>
      ${data.e2e_enabled === "true"
        ? html`<strong>End-to-end encryption is on.</strong> Every message is encrypted on the
            sender's device, by this web client as by the Chatalot apps, and the server stores only
            ciphertext; it cannot search it. The server cannot read direct messages; channel messages use sender keys shared through the
            server (the original Chatalot design), so it could read those.`
        : html`<strong>End-to-end encryption is off.</strong> Messages are stored readable by the server.`}
      Change it with <code>e2e_enabled</code> below.</p>`}
    <form onSubmit=${save}>
      ${Object.keys(values).sort().map(
        (key) => html`<${Field} key=${key} label=${key} value=${values[key]}
          onInput=${(event) => setValues({ ...values, [key]: event.target.value })} />`,
      )}
      <button type="submit" class="primary">Save settings</button>
    </form>
  </section>`;
}

function Reports() {
  const [status, setStatus] = useState("pending");
  const { data, error, reload } = useLoad(() => api.admin.reports({ status, per_page: 50 }), [status]);
  const review = (report, next) => {
    const notes = prompt("Notes (optional):");
    if (notes === null) return;
    attempt(() => api.admin.reviewReport(report.id, { status: next, admin_notes: notes.trim() || null }), "Saved").then(reload);
  };
  return html`<section aria-labelledby="admin-reports-h">
    <h2 id="admin-reports-h">Reports</h2>
    <label class="row">Status
      <select value=${status} onChange=${(event) => setStatus(event.target.value)}>
        ${["pending", "reviewed", "resolved", "dismissed"].map((value) => html`<option value=${value}>${value}</option>`)}
      </select>
    </label>
    <${ErrorText} error=${error} />
    ${data && data.reports.length === 0 && html`<p class="muted">No ${status} reports.</p>`}
    <ul class="plain-list">
      ${(data ? data.reports : []).map(
        (report) => html`<li key=${report.id} class="card">
          <p><strong>${report.report_type}</strong> ${report.target_id} · ${formatFull(report.created_at)}</p>
          <p>${report.reason}</p>
          ${report.admin_notes && html`<p class="muted">Notes: ${report.admin_notes}</p>`}
          <div class="row">
            ${["reviewed", "resolved", "dismissed"].map(
              (next) => html`<button type="button" onClick=${() => review(report, next)}>Mark ${next}</button>`,
            )}
          </div>
        </li>`,
      )}
    </ul>
  </section>`;
}

function Audit() {
  const [page, setPage] = useState(1);
  const { data, error } = useLoad(() => api.admin.auditLog({ page, per_page: 50 }), [page]);
  const pages = data ? Math.max(1, Math.ceil(data.total / data.per_page)) : 1;
  return html`<section aria-labelledby="admin-audit-h">
    <h2 id="admin-audit-h">Audit log</h2>
    <${ErrorText} error=${error} />
    <table class="admin-table">
      <thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">User</th><th scope="col">IP</th><th scope="col">Details</th></tr></thead>
      <tbody>
        ${(data ? data.entries : []).map(
          (entry) => html`<tr key=${entry.id}>
            <td>${formatFull(entry.created_at)}</td>
            <td>${entry.action}</td>
            <td>${entry.user_id ? (app.get().users[entry.user_id]?.username || entry.user_id.slice(0, 8)) : ""}</td>
            <td>${entry.ip_address || ""}</td>
            <td><code>${entry.metadata ? JSON.stringify(entry.metadata) : ""}</code></td>
          </tr>`,
        )}
      </tbody>
    </table>
    <div class="row">
      <button type="button" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Newer</button>
      <span>Page ${page} of ${pages}</span>
      <button type="button" disabled=${page >= pages} onClick=${() => setPage(page + 1)}>Older</button>
    </div>
  </section>`;
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

function Files() {
  const [page, setPage] = useState(1);
  const { data, error, reload } = useLoad(() => api.admin.files({ page, per_page: 50 }), [page]);
  const stats = useLoad(() => api.admin.storageStats());
  return html`<section aria-labelledby="admin-files-h">
    <h2 id="admin-files-h">Files</h2>
    ${stats.data && html`<p>${stats.data.total_files} files, ${formatBytes(stats.data.total_bytes)} in all.</p>`}
    <${ErrorText} error=${error} />
    <table class="admin-table">
      <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Size</th><th scope="col">Uploaded</th><th scope="col">Actions</th></tr></thead>
      <tbody>
        ${(data ? data.files : []).map(
          (file) => html`<tr key=${file.id}>
            <td>${file.encrypted_name}${file.quarantined_at ? html` <span class="error">(quarantined)</span>` : ""}</td>
            <td>${file.content_type || ""}</td>
            <td>${formatBytes(file.size_bytes)}</td>
            <td>${formatFull(file.created_at)}</td>
            <td><div class="row">
              <button type="button" onClick=${() => attempt(() => api.admin.quarantineFile(file.id, !file.quarantined_at), "Saved").then(reload)}>
                ${file.quarantined_at ? "Release" : "Quarantine"}</button>
              <button type="button" class="danger" onClick=${() => {
                if (confirm(`Delete ${file.encrypted_name}?`)) attempt(() => api.admin.deleteFile(file.id), "Deleted").then(reload);
              }}>Delete</button>
            </div></td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${data && data.total > data.per_page &&
    html`<div class="row">
      <button type="button" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Previous</button>
      <span>Page ${page}</span>
      <button type="button" disabled=${page * data.per_page >= data.total} onClick=${() => setPage(page + 1)}>Next</button>
    </div>`}
  </section>`;
}

function Announcements() {
  const { data, error, reload } = useLoad(() => api.admin.announcements());
  const [form, setForm] = useState({ title: "", body: "" });
  const send = (event) => {
    event.preventDefault();
    attempt(() => api.admin.announce(form), "Announcement sent").then((ok) => {
      if (ok) setForm({ title: "", body: "" });
      reload();
    });
  };
  return html`<section aria-labelledby="admin-ann-h">
    <h2 id="admin-ann-h">Announcements</h2>
    <form onSubmit=${send}>
      <${Field} label="Title" required maxlength="200" value=${form.title} onInput=${(event) => setForm({ ...form, title: event.target.value })} />
      <${Field} label="Text" required multiline maxlength="5000" value=${form.body} onInput=${(event) => setForm({ ...form, body: event.target.value })} />
      <button type="submit" class="primary">Send to everyone</button>
    </form>
    <${ErrorText} error=${error} />
    <ul class="plain-list">
      ${(data || []).map(
        (item) => html`<li key=${item.id} class="card"><strong>${item.title}</strong>
          <span class="muted"> · ${formatFull(item.created_at)}</span><p>${item.body}</p></li>`,
      )}
    </ul>
  </section>`;
}

export function AdminPage({ section }) {
  const me = useStore(app, (state) => state.me);
  if (!me) return html`<main id="main" class="settings-page"><${Spinner} /></main>`;
  if (!me.is_admin && !me.is_owner) {
    return html`<main id="main" class="settings-page"><h1>Admin</h1><p>Only the server's administrators can open this page.</p></main>`;
  }
  const current = TABS.some(([key]) => key === section) ? section : "users";
  const views = { users: Users, invites: Invites, settings: Settings, reports: Reports, audit: Audit, files: Files, announcements: Announcements };
  const View = views[current];
  return html`
    <main class="settings-page admin-page" id="main">
      <header class="row">
        <button type="button" class="link" onClick=${() => navigate("/channels/@me")}>← Back</button>
        <h1 class="grow">Server administration</h1>
      </header>
      <nav class="tabs" aria-label="Administration sections">
        ${TABS.map(
          ([key, label]) => html`<a href=${"/admin/" + key} class=${"tab" + (key === current ? " active" : "")}
            aria-current=${key === current ? "page" : undefined}
            onClick=${(event) => {
              event.preventDefault();
              navigate("/admin/" + key);
            }}>${label}</a>`,
        )}
      </nav>
      <${View} me=${me} />
    </main>
  `;
}

// The signed-in session: tokens and the user, kept in localStorage so a reload keeps it, and
// shared between tabs (a token refreshed in one tab is seen by the others).

const ACCESS = "chatalot.access_token";
const REFRESH = "chatalot.refresh_token";
const USER = "chatalot.user";

const listeners = new Set();

function read(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value == null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // storage full or disabled: the session lasts as long as the page
  }
}

export const session = {
  get accessToken() {
    return read(ACCESS);
  },
  get refreshToken() {
    return read(REFRESH);
  },
  get user() {
    const raw = read(USER);
    if (!raw) return null;
    try {
      return JSON.parse(raw);
    } catch {
      return null;
    }
  },
  get signedIn() {
    return Boolean(read(ACCESS) && read(REFRESH));
  },
  /** After login, registration or a refresh (the user only when it is known). */
  store({ access_token, refresh_token, user }) {
    if (access_token) write(ACCESS, access_token);
    if (refresh_token) write(REFRESH, refresh_token);
    if (user) write(USER, JSON.stringify(user));
    emit();
  },
  setUser(user) {
    write(USER, JSON.stringify(user));
    emit();
  },
  clear() {
    write(ACCESS, null);
    write(REFRESH, null);
    write(USER, null);
    emit();
  },
  onChange(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

function emit() {
  for (const fn of listeners) fn();
}

window.addEventListener("storage", (event) => {
  if (event.key === ACCESS || event.key === REFRESH || event.key === USER) emit();
});

// Dark and light themes (CSS variables in css/app.css), remembered per browser; "system"
// follows the operating system.

const KEY = "chatalot.theme";

export function currentTheme() {
  try {
    return localStorage.getItem(KEY) || "system";
  } catch {
    return "system";
  }
}

export function applyTheme(choice = currentTheme()) {
  const dark = choice === "dark" || (choice === "system" && matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}

export function setTheme(choice) {
  try {
    localStorage.setItem(KEY, choice);
  } catch {
    // not remembered
  }
  applyTheme(choice);
}

matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => applyTheme());

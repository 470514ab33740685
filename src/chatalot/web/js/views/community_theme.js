// A community's theme colours: which CSS variable each theme key sets, the style attribute the
// community's shell gets, and the contrast checks the settings dialog warns about (WCAG 2.x).
// The theme's customCss is never applied (see themeStyle).

/** [theme key, label, CSS variable of css/app.css] */
export const THEME_KEYS = [
  ["accent", "Accent", "--accent"],
  ["accentHover", "Accent when hovered", "--accent-hover"],
  ["bgPrimary", "Main background", "--bg"],
  ["bgSecondary", "Sidebar and panel background", "--bg-raised"],
  ["bgTertiary", "Rail and input background", "--bg-sunken"],
  ["textPrimary", "Text", "--text"],
  ["textSecondary", "Secondary text", "--text-muted"],
];

const SURFACE_KEYS = new Set(["bgPrimary", "bgSecondary", "bgTertiary", "textPrimary", "textSecondary"]);

// CSS accepts 3, 4, 6 or 8 hex digits; the server also lets 5 and 7 through, which CSS ignores
const CSS_HEX = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

/** [r, g, b] in 0..1 of a CSS hex colour (its alpha ignored), or null. */
export function parseHex(value) {
  const text = typeof value === "string" ? value.trim() : "";
  if (!CSS_HEX.test(text)) return null;
  let hex = text.slice(1);
  if (hex.length <= 4) hex = [...hex].map((c) => c + c).join("");
  return [0, 2, 4].map((at) => parseInt(hex.slice(at, at + 2), 16) / 255);
}

/** The #rrggbb form a colour input accepts, or null. */
export function sixDigits(value) {
  const rgb = parseHex(value);
  if (!rgb) return null;
  return "#" + rgb.map((c) => Math.round(c * 255).toString(16).padStart(2, "0")).join("");
}

function luminance(rgb) {
  const linear = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2]);
}

/** The contrast ratio (1..21) of two hex colours, or null if either is not one. */
export function contrast(a, b) {
  const x = parseHex(a);
  const y = parseHex(b);
  if (!x || !y) return null;
  const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
  return (hi + 0.05) / (lo + 0.05);
}

/** Black or white, whichever is more readable on ``colour``. */
function textOn(colour) {
  const rgb = parseHex(colour);
  const l = luminance(rgb);
  return (l + 0.05) / 0.05 > 1.05 / (l + 0.05) ? "#000000" : "#ffffff";
}

// app.css's own dark and light colours for the theme keys: a theme that sets only some of its
// background and text colours gets the rest from whichever of the two matches it, so a light
// background never meets the dark theme's light text (or the other way round)
const PALETTES = {
  dark: {
    accent: "#7c8aff",
    bgPrimary: "#15171c",
    bgSecondary: "#1d2027",
    bgTertiary: "#101216",
    textPrimary: "#e8eaef",
    textSecondary: "#a9afbd",
  },
  light: {
    accent: "#3b4cd6",
    bgPrimary: "#ffffff",
    bgSecondary: "#f3f4f7",
    bgTertiary: "#e8eaf0",
    textPrimary: "#15171c",
    textSecondary: "#4f5566",
  },
};

function valid(theme, key) {
  return theme && parseHex(theme[key]) ? theme[key].trim() : null;
}

/** The colours the shell ends up with: the theme's own, and when it changes backgrounds or text,
 * the missing ones from the matching palette; otherwise missing ones from ``fallback``. */
export function completeTheme(theme, fallback = {}) {
  const own = {};
  for (const [key] of THEME_KEYS) {
    const value = valid(theme, key);
    if (value) own[key] = value;
  }
  if (!themesSurfaces(own)) return { own, all: { ...fallback, ...own }, filled: {}, tone: null };
  const background = own.bgPrimary || own.bgSecondary || own.bgTertiary;
  const dark = background
    ? luminance(parseHex(background)) < 0.18
    : luminance(parseHex(own.textPrimary || own.textSecondary)) > 0.18;
  const palette = PALETTES[dark ? "dark" : "light"];
  const filled = {};
  for (const [key, value] of Object.entries(palette)) if (!own[key]) filled[key] = value;
  if (!own.accentHover) filled.accentHover = own.accent || filled.accent;
  return { own, all: { ...own, ...filled }, filled, tone: dark ? "dark" : "light" };
}

/** The theme as CSS variables for the community's shell ("" when there is nothing to apply).
 * Only the colour keys are used: customCss is not injected, because CSS written by a community
 * could restyle or cover any part of the page (fake dialogs, hidden warnings), even sanitised. */
export function themeStyle(theme) {
  const { own, filled } = completeTheme(theme);
  const colours = { ...own, ...filled };
  const parts = [];
  for (const [key, , variable] of THEME_KEYS) {
    const value = colours[key];
    if (!value) continue;
    parts.push(`${variable}:${value}`);
    if (key === "accent") parts.push(`--accent-text:${textOn(value)}`);
    if (key === "accentHover") parts.push(`--accent-hover-text:${textOn(value)}`);
  }
  return parts.join(";");
}

/** "dark" or "light" when the theme changes backgrounds or text (the shell then takes that
 * tone's other colours: danger, notices, focus ring; css/community.css), else null. */
export function themeTone(theme) {
  return completeTheme(theme).tone;
}

/** Whether the theme changes backgrounds or text (the shell then derives hover and border
 * shades from them, css/community.css). */
export function themesSurfaces(theme) {
  if (!theme || typeof theme !== "object") return false;
  return [...SURFACE_KEYS].some((key) => parseHex(theme[key]));
}

// text/background pairs the layout puts together, with the 4.5:1 minimum for normal text
const PAIRS = [
  ["textPrimary", "bgPrimary"],
  ["textPrimary", "bgSecondary"],
  ["textPrimary", "bgTertiary"],
  ["textSecondary", "bgPrimary"],
  ["textSecondary", "bgSecondary"],
  ["accent", "bgPrimary"],
];
export const MIN_CONTRAST = 4.5;

/** The pairs of the theme ``colours`` (theme key -> hex) whose contrast is below 4.5:1 as the
 * shell would show them (missing keys completed as themeStyle does, or from ``defaults``, the
 * viewer's own colours), as {fore, back, ratio}. */
export function lowContrast(colours, defaults = {}) {
  const { own, all } = completeTheme(colours, defaults);
  const found = [];
  for (const [fore, back] of PAIRS) {
    if (!own[fore] && !own[back]) continue; // both the app's own
    const ratio = contrast(all[fore], all[back]);
    if (ratio !== null && ratio < MIN_CONTRAST) found.push({ fore, back, ratio });
  }
  return found;
}

/** The user's own theme colours (light or dark), for the keys a community theme leaves out. */
export function currentDefaults() {
  const style = getComputedStyle(document.documentElement);
  const defaults = {};
  for (const [key, , variable] of THEME_KEYS) {
    const value = style.getPropertyValue(variable).trim();
    if (parseHex(value)) defaults[key] = value;
  }
  if (!defaults.accentHover && defaults.accent) defaults.accentHover = defaults.accent;
  return defaults;
}

export function labelOf(key) {
  const row = THEME_KEYS.find(([name]) => name === key);
  return row ? row[1] : key;
}

// Dates and times as people read them in a chat.

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "long",
  year: "numeric",
  month: "long",
  day: "numeric",
});
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

export const formatTime = (iso) => timeFormat.format(new Date(iso));
export const formatFull = (iso) => fullFormat.format(new Date(iso));

export function dayKey(iso) {
  const date = new Date(iso);
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

export function formatDay(iso) {
  const date = new Date(iso);
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86_400_000);
  if (dayKey(date.toISOString()) === dayKey(today.toISOString())) return "Today";
  if (dayKey(date.toISOString()) === dayKey(yesterday.toISOString())) return "Yesterday";
  return dayFormat.format(date);
}

// Emoji data for the picker and the Markdown renderer: a compact built-in set of common Unicode
// emoji by category (names used for search), and the custom emoji of the community on screen.
// The renderer reads customEmoji() below when its caller passes no lookup of its own, so rows
// rendered anywhere (list, thread, pins) show the current community's emoji.

import { createStore } from "./store.js";

// [emoji, "name and search words"]: the first word group is the name shown in the picker.
const SMILEYS = [
  ["😀", "grinning face smile happy"],
  ["😃", "smiling face big eyes happy"],
  ["😄", "smiling face smiling eyes laugh"],
  ["😁", "beaming face grin"],
  ["😆", "squinting laugh"],
  ["😅", "sweat smile relief"],
  ["🤣", "rolling on the floor laughing rofl"],
  ["😂", "tears of joy laugh lol"],
  ["🙂", "slightly smiling face"],
  ["🙃", "upside down face"],
  ["😉", "winking face wink"],
  ["😊", "smiling face blush"],
  ["😇", "halo angel innocent"],
  ["🥰", "smiling face with hearts love"],
  ["😍", "heart eyes love"],
  ["🤩", "star struck excited"],
  ["😘", "blowing a kiss"],
  ["😋", "yum tasty tongue"],
  ["😛", "tongue out"],
  ["😜", "winking tongue crazy"],
  ["🤪", "zany face silly"],
  ["🤔", "thinking face hmm"],
  ["🤨", "raised eyebrow skeptical"],
  ["😐", "neutral face meh"],
  ["😑", "expressionless"],
  ["😶", "no mouth speechless"],
  ["🙄", "rolling eyes"],
  ["😏", "smirk"],
  ["😬", "grimace awkward"],
  ["🤥", "lying pinocchio"],
  ["😌", "relieved calm"],
  ["😔", "pensive sad"],
  ["😪", "sleepy"],
  ["😴", "sleeping zzz"],
  ["😷", "medical mask sick"],
  ["🤒", "thermometer ill fever"],
  ["🤢", "nauseated sick green"],
  ["🤯", "exploding head mind blown"],
  ["🥳", "party face celebrate"],
  ["😎", "sunglasses cool"],
  ["🤓", "nerd glasses"],
  ["😕", "confused"],
  ["😟", "worried"],
  ["😮", "open mouth surprised wow"],
  ["😲", "astonished shocked"],
  ["😳", "flushed embarrassed"],
  ["🥺", "pleading puppy eyes"],
  ["😢", "crying tear sad"],
  ["😭", "loudly crying sob"],
  ["😱", "screaming fear"],
  ["😤", "huffing triumph"],
  ["😡", "pouting angry rage"],
  ["🤬", "cursing swearing"],
  ["💀", "skull dead"],
  ["💩", "pile of poo"],
  ["🤡", "clown"],
  ["👻", "ghost boo"],
  ["👽", "alien"],
  ["🤖", "robot bot"],
  ["😺", "grinning cat"],
];

const PEOPLE = [
  ["👋", "waving hand hello bye"],
  ["🤚", "raised back of hand"],
  ["✋", "raised hand stop high five"],
  ["👌", "ok hand"],
  ["🤌", "pinched fingers"],
  ["✌️", "victory peace"],
  ["🤞", "crossed fingers luck"],
  ["🤟", "love you gesture"],
  ["🤘", "horns rock"],
  ["🤙", "call me shaka"],
  ["👈", "pointing left"],
  ["👉", "pointing right"],
  ["👆", "pointing up"],
  ["👇", "pointing down"],
  ["☝️", "index pointing up"],
  ["👍", "thumbs up like yes +1"],
  ["👎", "thumbs down dislike no -1"],
  ["✊", "raised fist"],
  ["👊", "fist bump punch"],
  ["👏", "clapping hands applause"],
  ["🙌", "raising hands hooray"],
  ["👐", "open hands"],
  ["🤝", "handshake deal"],
  ["🙏", "folded hands please thanks pray"],
  ["✍️", "writing hand"],
  ["💪", "flexed biceps strong"],
  ["🧠", "brain smart"],
  ["👀", "eyes look"],
  ["👁️", "eye"],
  ["👶", "baby"],
  ["🧒", "child"],
  ["🧑", "person"],
  ["🧓", "older person"],
  ["🧑‍💻", "technologist coder"],
  ["🕵️", "detective"],
  ["🤷", "shrug"],
  ["🤦", "facepalm"],
  ["🙋", "raising hand"],
  ["🙇", "bowing"],
  ["💃", "dancer dance"],
];

const NATURE = [
  ["🐶", "dog face puppy"],
  ["🐱", "cat face kitten"],
  ["🐭", "mouse"],
  ["🐰", "rabbit bunny"],
  ["🦊", "fox"],
  ["🐻", "bear"],
  ["🐼", "panda"],
  ["🐨", "koala"],
  ["🐯", "tiger"],
  ["🦁", "lion"],
  ["🐮", "cow"],
  ["🐷", "pig"],
  ["🐸", "frog"],
  ["🐵", "monkey"],
  ["🐔", "chicken"],
  ["🐧", "penguin"],
  ["🐦", "bird"],
  ["🦆", "duck"],
  ["🦉", "owl"],
  ["🐝", "bee honeybee"],
  ["🦋", "butterfly"],
  ["🐢", "turtle slow"],
  ["🐍", "snake"],
  ["🐙", "octopus"],
  ["🐳", "whale"],
  ["🐟", "fish"],
  ["🦀", "crab rust"],
  ["🌸", "cherry blossom flower"],
  ["🌹", "rose flower"],
  ["🌻", "sunflower"],
  ["🌲", "evergreen tree"],
  ["🌵", "cactus"],
  ["🍀", "four leaf clover luck"],
  ["🍁", "maple leaf autumn"],
  ["🌍", "globe earth world"],
  ["🌙", "crescent moon night"],
  ["⭐", "star"],
  ["🌟", "glowing star"],
  ["☀️", "sun sunny"],
  ["🌈", "rainbow"],
  ["☁️", "cloud"],
  ["⛈️", "storm thunder rain"],
  ["❄️", "snowflake cold winter"],
  ["🔥", "fire lit hot"],
  ["💧", "droplet water"],
];

const FOOD = [
  ["🍎", "red apple"],
  ["🍊", "orange tangerine"],
  ["🍋", "lemon"],
  ["🍌", "banana"],
  ["🍉", "watermelon"],
  ["🍇", "grapes"],
  ["🍓", "strawberry"],
  ["🍒", "cherries"],
  ["🍑", "peach"],
  ["🥑", "avocado"],
  ["🥕", "carrot"],
  ["🌽", "corn"],
  ["🌶️", "hot pepper spicy"],
  ["🍞", "bread"],
  ["🧀", "cheese"],
  ["🍳", "cooking egg"],
  ["🥓", "bacon"],
  ["🍔", "hamburger burger"],
  ["🍟", "french fries"],
  ["🍕", "pizza"],
  ["🌭", "hot dog"],
  ["🌮", "taco"],
  ["🍣", "sushi"],
  ["🍜", "ramen noodles"],
  ["🍿", "popcorn"],
  ["🍩", "doughnut donut"],
  ["🍪", "cookie"],
  ["🎂", "birthday cake"],
  ["🍰", "shortcake cake"],
  ["🍫", "chocolate"],
  ["🍬", "candy"],
  ["☕", "hot beverage coffee tea"],
  ["🍵", "teacup tea"],
  ["🍺", "beer mug"],
  ["🍻", "clinking beers cheers"],
  ["🍷", "wine glass"],
  ["🥂", "clinking glasses toast"],
  ["🧃", "juice box"],
];

const ACTIVITIES = [
  ["⚽", "soccer ball football"],
  ["🏀", "basketball"],
  ["🏈", "american football"],
  ["⚾", "baseball"],
  ["🎾", "tennis"],
  ["🏐", "volleyball"],
  ["🏓", "ping pong table tennis"],
  ["🏆", "trophy win"],
  ["🥇", "first place gold medal"],
  ["🎯", "direct hit target bullseye"],
  ["🎮", "video game controller"],
  ["🎲", "game die dice"],
  ["🧩", "puzzle piece"],
  ["♟️", "chess pawn"],
  ["🎨", "artist palette art"],
  ["🎸", "guitar music"],
  ["🎹", "musical keyboard piano"],
  ["🎤", "microphone karaoke"],
  ["🎧", "headphone music"],
  ["🎬", "clapper board movie film"],
  ["🎉", "party popper tada celebrate"],
  ["🎊", "confetti ball"],
  ["🎈", "balloon"],
  ["🎁", "wrapped gift present"],
  ["🏃", "running"],
  ["🚴", "biking cycling"],
];

const OBJECTS = [
  ["💻", "laptop computer"],
  ["🖥️", "desktop computer"],
  ["⌨️", "keyboard"],
  ["🖱️", "computer mouse"],
  ["📱", "mobile phone"],
  ["☎️", "telephone"],
  ["📷", "camera photo"],
  ["💡", "light bulb idea"],
  ["🔦", "flashlight"],
  ["📚", "books"],
  ["📖", "open book read"],
  ["📝", "memo note write"],
  ["✏️", "pencil"],
  ["📌", "pushpin pin"],
  ["📎", "paperclip attach"],
  ["✂️", "scissors cut"],
  ["🔒", "locked lock secure"],
  ["🔑", "key"],
  ["🔨", "hammer"],
  ["🔧", "wrench fix"],
  ["⚙️", "gear settings"],
  ["🧪", "test tube experiment"],
  ["🔭", "telescope"],
  ["📅", "calendar date"],
  ["⏰", "alarm clock"],
  ["⌛", "hourglass time"],
  ["📦", "package box"],
  ["✉️", "envelope mail"],
  ["📣", "megaphone announce"],
  ["🔔", "bell notification"],
  ["💰", "money bag"],
  ["💳", "credit card"],
  ["🚀", "rocket launch ship"],
  ["✈️", "airplane travel"],
  ["🚗", "car automobile"],
  ["🏠", "house home"],
  ["⏳", "hourglass flowing sand wait"],
];

const SYMBOLS = [
  ["❤️", "red heart love"],
  ["🧡", "orange heart"],
  ["💛", "yellow heart"],
  ["💚", "green heart"],
  ["💙", "blue heart"],
  ["💜", "purple heart"],
  ["🖤", "black heart"],
  ["🤍", "white heart"],
  ["💔", "broken heart"],
  ["💕", "two hearts"],
  ["💯", "hundred points 100 perfect"],
  ["✅", "check mark button done yes"],
  ["✔️", "check mark"],
  ["❌", "cross mark no wrong"],
  ["❓", "question mark"],
  ["❗", "exclamation mark"],
  ["⚠️", "warning caution"],
  ["🚫", "prohibited forbidden"],
  ["⛔", "no entry"],
  ["➕", "plus add"],
  ["➖", "minus"],
  ["🆗", "ok button"],
  ["🆕", "new button"],
  ["🔴", "red circle"],
  ["🟢", "green circle"],
  ["🔵", "blue circle"],
  ["⬆️", "up arrow"],
  ["⬇️", "down arrow"],
  ["➡️", "right arrow"],
  ["⬅️", "left arrow"],
  ["🔁", "repeat"],
  ["♻️", "recycle"],
  ["💤", "zzz sleep"],
  ["💬", "speech balloon chat"],
  ["✨", "sparkles shiny"],
  ["⚡", "high voltage lightning zap"],
  ["🏳️‍🌈", "rainbow flag pride"],
  ["🏁", "chequered flag finish"],
];

export const EMOJI_CATEGORIES = [
  { id: "smileys", label: "Smileys", items: SMILEYS },
  { id: "people", label: "People and hands", items: PEOPLE },
  { id: "nature", label: "Animals and nature", items: NATURE },
  { id: "food", label: "Food and drink", items: FOOD },
  { id: "activities", label: "Activities", items: ACTIVITIES },
  { id: "objects", label: "Objects and travel", items: OBJECTS },
  { id: "symbols", label: "Symbols", items: SYMBOLS },
].map((category) => ({
  ...category,
  items: category.items.map(([emoji, words]) => ({ emoji, words, name: words.split(" ").slice(0, 3).join(" ") })),
}));

/** Built-in emoji whose words contain every word of `query` (as prefixes of words). */
export function searchEmoji(query) {
  const needles = query.toLowerCase().split(/\s+/).filter(Boolean);
  const found = [];
  for (const category of EMOJI_CATEGORIES) {
    for (const item of category.items) {
      const words = item.words.split(" ");
      if (needles.every((needle) => words.some((word) => word.startsWith(needle)))) found.push(item);
    }
  }
  return found;
}

// ---- custom emoji ------------------------------------------------------------------------------

const SHORTCODE = /^[A-Za-z0-9_]{2,32}$/;
const SAFE_PATH = /^\/api\/emojis\/[A-Za-z0-9_-]{1,64}$/;

/** {communities: {community id: CustomEmoji[]}, version: {community id: n}, active: id|null} */
export const customEmojiStore = createStore({ communities: {}, version: {}, active: null });

/** Keeps only well-formed entries: a plain shortcode, and an image at /api/emojis/{id}. */
function sanitize(list) {
  const out = [];
  for (const item of Array.isArray(list) ? list : []) {
    if (!item || typeof item.shortcode !== "string" || !SHORTCODE.test(item.shortcode)) continue;
    const url = typeof item.id === "string" ? `/api/emojis/${encodeURIComponent(item.id)}` : "";
    if (!SAFE_PATH.test(url)) continue;
    out.push({ id: item.id, shortcode: item.shortcode, url });
  }
  return out;
}

/** Stores a community's custom emoji (GET /api/communities/{id}/emojis). */
export function setCommunityEmoji(communityId, list) {
  const clean = sanitize(list);
  customEmojiStore.set((state) => {
    const before = state.communities[communityId];
    const same =
      before &&
      before.length === clean.length &&
      before.every((item, index) => item.id === clean[index].id && item.shortcode === clean[index].shortcode);
    if (same) return state;
    const communities = { ...state.communities, [communityId]: clean };
    // the version tells views that rendered text may read differently now: not for a first
    // empty list (no :shortcode: rendered as an image before or after)
    if (!before && clean.length === 0) return { ...state, communities };
    return { ...state, communities, version: { ...state.version, [communityId]: (state.version[communityId] || 0) + 1 } };
  });
}

/** The community whose emoji `:shortcode:` names in rendered messages (null in DMs). */
export function setActiveCommunity(communityId) {
  customEmojiStore.set((state) => (state.active === communityId ? state : { ...state, active: communityId }));
}

export function communityEmoji(communityId) {
  return (communityId && customEmojiStore.get().communities[communityId]) || [];
}

/** The custom emoji `shortcode` names in the active community ({shortcode, url}), or null. */
export function customEmoji(shortcode) {
  const state = customEmojiStore.get();
  const list = state.active ? state.communities[state.active] : null;
  if (!list) return null;
  return list.find((item) => item.shortcode === shortcode) || null;
}

/**
 * The emoji the demo knows, in the order the page shows them. The voting service
 * has one RPC per entry (`VoteJoy`, `VoteDoughnut`, …), named by `voteMethodName`;
 * a unit test keeps proto/voting.proto in step with this list.
 */

/** One emoji: its `:shortcode:` and the character(s) it stands for. */
export type Emoji = {
  readonly shortcode: string;
  readonly unicode: string;
};

/** The emoji every vote for fails, on purpose, so the mesh has failures to show. */
export const DOUGHNUT = ':doughnut:';

/** Every emoji of the demo. Shortcodes are `:[a-z0-9_]+:` so RPC names derive from them. */
export const EMOJI_CATALOG: readonly Emoji[] = [
  { shortcode: ':joy:', unicode: '😂' },
  { shortcode: ':sunglasses:', unicode: '😎' },
  { shortcode: ':doughnut:', unicode: '🍩' },
  { shortcode: ':stuck_out_tongue_winking_eye:', unicode: '😜' },
  { shortcode: ':money_mouth_face:', unicode: '🤑' },
  { shortcode: ':flushed:', unicode: '😳' },
  { shortcode: ':mask:', unicode: '😷' },
  { shortcode: ':nerd_face:', unicode: '🤓' },
  { shortcode: ':ghost:', unicode: '👻' },
  { shortcode: ':skull_and_crossbones:', unicode: '☠️' },
  { shortcode: ':heart_eyes_cat:', unicode: '😻' },
  { shortcode: ':see_no_evil:', unicode: '🙈' },
  { shortcode: ':hear_no_evil:', unicode: '🙉' },
  { shortcode: ':speak_no_evil:', unicode: '🙊' },
  { shortcode: ':santa:', unicode: '🎅' },
  { shortcode: ':poop:', unicode: '💩' },
  { shortcode: ':rocket:', unicode: '🚀' },
  { shortcode: ':tada:', unicode: '🎉' },
  { shortcode: ':pizza:', unicode: '🍕' },
  { shortcode: ':unicorn:', unicode: '🦄' },
  { shortcode: ':champagne:', unicode: '🍾' },
  { shortcode: ':clap:', unicode: '👏' },
  { shortcode: ':100:', unicode: '💯' },
  { shortcode: ':fire:', unicode: '🔥' },
  { shortcode: ':crossed_fingers:', unicode: '🤞' },
  { shortcode: ':raised_hands:', unicode: '🙌' },
  { shortcode: ':thumbsup:', unicode: '👍' },
  { shortcode: ':wave:', unicode: '👋' },
  { shortcode: ':bulb:', unicode: '💡' },
  { shortcode: ':cat:', unicode: '🐱' },
  { shortcode: ':dog:', unicode: '🐶' },
  { shortcode: ':owl:', unicode: '🦉' },
];

/** Finds an emoji by its `:shortcode:`; `undefined` when the demo does not know it. */
export function findEmoji(shortcode: string): Emoji | undefined {
  return EMOJI_CATALOG.find((e) => e.shortcode === shortcode);
}

/**
 * The voting RPC for a shortcode: `:stuck_out_tongue_winking_eye:` →
 * `VoteStuckOutTongueWinkingEye`, `:100:` → `Vote100`.
 */
export function voteMethodName(shortcode: string): string {
  const words = shortcode.replace(/^:|:$/g, '').split('_').filter((w) => w !== '');
  return `Vote${words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}`;
}

/** Room kept at the end of a cut text for its marker, `… (123456 more characters)`. */
const MARKER_ROOM = 40;

/**
 * `text` whole when it has at most `max` characters (`max` > 40), else its start and a marker of
 * how much was left out, `max` characters at most. A cut never splits a surrogate pair.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let kept = max - MARKER_ROOM;
  const last = text.charCodeAt(kept - 1);
  if (last >= 0xd800 && last <= 0xdbff) kept -= 1;
  return `${text.slice(0, kept)}… (${text.length - kept} more characters)`;
}

// Offsets as the page counts them: UTF-16 code units, like JavaScript strings and the DOM.
// Every request that reads or writes offsets says so (stringIndexType=Utf16CodeUnit).
//
// A label must never split a user-perceived character: not a surrogate pair (an emoji), not
// CRLF, not a base letter from its combining mark. Selections are widened to grapheme
// cluster boundaries (Intl.Segmenter; CR LF is one cluster) and trimmed of white space.

const segmenter = typeof Intl !== 'undefined' && Intl.Segmenter
  ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;

// Grapheme clusters are local: a window around the position decides its boundary (a cluster
// longer than the window, which real text never holds, is cut at the window's edge).
const WINDOW = 64;

function isHigh(code) { return code >= 0xd800 && code <= 0xdbff; }
function isLow(code) { return code >= 0xdc00 && code <= 0xdfff; }

// The grapheme boundary at or before `index`.
export function boundaryBefore(text, index) {
  if (index <= 0) return 0;
  if (index >= text.length) return text.length;
  if (segmenter) {
    const from = Math.max(0, index - WINDOW);
    const piece = text.slice(from, Math.min(text.length, index + WINDOW));
    const segment = segmenter.segment(piece).containing(index - from);
    if (segment) return from + segment.index;
  }
  let i = index;
  if (isLow(text.charCodeAt(i)) && isHigh(text.charCodeAt(i - 1))) i -= 1;
  if (text[i] === '\n' && text[i - 1] === '\r') i -= 1;
  return i;
}

// The grapheme boundary at or after `index`.
export function boundaryAfter(text, index) {
  if (index <= 0) return 0;
  if (index >= text.length) return text.length;
  const before = boundaryBefore(text, index);
  if (before === index) return index;
  if (segmenter) {
    const from = Math.max(0, before - WINDOW);
    const piece = text.slice(from, Math.min(text.length, before + WINDOW));
    const segment = segmenter.segment(piece).containing(before - from);
    if (segment) return Math.min(text.length, from + segment.index + segment.segment.length);
  }
  let i = index;
  if (isLow(text.charCodeAt(i)) && isHigh(text.charCodeAt(i - 1))) i += 1;
  if (text[i] === '\n' && text[i - 1] === '\r') i += 1;
  return i;
}

const SPACE = /\s/u;

// [start, end) widened to whole characters and trimmed of white space at both ends; null
// when nothing but white space is left.
export function snapSpan(text, start, end) {
  let s = boundaryBefore(text, Math.min(start, end));
  let e = boundaryAfter(text, Math.max(start, end));
  while (s < e && SPACE.test(text[s])) s += 1;
  while (e > s && SPACE.test(text[e - 1])) e -= 1;
  if (s >= e) return null;
  // Trimming moved inside the text: stay on character boundaries there too.
  s = boundaryBefore(text, s);
  e = boundaryAfter(text, e);
  return { start: s, end: e };
}

// Code points in a piece of text: the API's 500-character limit for a label counts these.
export function codePoints(text) {
  let n = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (!(isLow(text.charCodeAt(i)) && i > 0 && isHigh(text.charCodeAt(i - 1)))) n += 1;
  }
  return n;
}

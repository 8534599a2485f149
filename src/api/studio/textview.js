// The document's text with its labels and suggestions drawn over it.
//
// The text is cut at every place a label or suggestion starts or ends; each piece is a
// <span data-start> holding one text node, so a DOM position maps to an offset (UTF-16 code
// units, as the DOM counts) in O(1) and an offset to a DOM position by binary search. The
// text goes in as text nodes only: nothing in it is ever read as markup.

export class TextView {
  constructor(root) {
    this.root = root;
    this.text = '';
    this.starts = [];
    this.pieces = [];
  }

  // marks: [{key, offset, length, kind: 'label' | 'suggestion', colour, status, title}]
  // Drawn again with the same text, only the stretch where marks changed is rebuilt: a
  // label added to a long document touches a few pieces, not thousands.
  render(text, marks) {
    const next = new Map(marks.map((m) => [signature(m), m]));
    if (this.signatures && text === this.text) {
      let lo = Infinity;
      let hi = -Infinity;
      const widen = (m) => {
        lo = Math.min(lo, m.offset);
        hi = Math.max(hi, m.offset + m.length);
      };
      for (const [sig, m] of next) if (!this.signatures.has(sig)) widen(m);
      for (const [sig, m] of this.signatures) if (!next.has(sig)) widen(m);
      this.signatures = next;
      this.marks = marks;
      if (lo < hi) this.redrawStretch(lo, hi);
      return;
    }
    this.text = text;
    this.signatures = next;
    this.marks = marks;
    const { fragment, starts, pieces } = build(text, marks, 0, text.length);
    this.root.replaceChildren(fragment);
    this.starts = starts;
    this.pieces = pieces;
  }

  // Rebuilds the pieces that [lo, hi) touches, from the marks that touch them.
  redrawStretch(lo, hi) {
    const first = this.indexAt(lo);
    const last = this.indexAt(Math.max(lo, hi - 1));
    const from = this.starts[first];
    const to = last + 1 < this.starts.length ? this.starts[last + 1] : this.text.length;
    const touching = this.marks.filter((m) => m.offset < to && m.offset + m.length > from);
    const { fragment, starts, pieces } = build(this.text, touching, from, to);
    this.root.insertBefore(fragment, this.pieces[last + 1] ?? null);
    for (let i = first; i <= last; i += 1) this.pieces[i].remove();
    this.starts.splice(first, last - first + 1, ...starts);
    this.pieces.splice(first, last - first + 1, ...pieces);
  }

  // The index of the piece holding an offset.
  indexAt(offset) {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  // The text offset of a DOM position (a selection's end), clamped to the text.
  offsetOf(node, offset) {
    if (!this.root.contains(node)) {
      const after = this.root.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING;
      return after ? this.text.length : 0;
    }
    if (node.nodeType === Node.TEXT_NODE) {
      const piece = node.parentElement.closest('[data-start]');
      if (piece) return Number(piece.dataset.start) + offset;
    }
    const range = document.createRange();
    range.setStart(this.root, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  // The selection's [start, end) in the text, or null when it is empty or not in the text.
  selected() {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!range.intersectsNode(this.root)) return null;
    const start = this.offsetOf(range.startContainer, range.startOffset);
    const end = this.offsetOf(range.endContainer, range.endOffset);
    return start < end ? { start, end } : null;
  }

  // The DOM position of a text offset.
  pointAt(offset) {
    const lo = this.indexAt(offset);
    const piece = this.pieces[lo];
    if (!piece) return { node: this.root, offset: 0 };
    const node = piece.firstChild;
    return { node, offset: Math.min(offset - this.starts[lo], node.length) };
  }

  select(start, end) {
    const a = this.pointAt(start);
    const b = this.pointAt(end);
    const range = document.createRange();
    range.setStart(a.node, a.offset);
    range.setEnd(b.node, b.offset);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // Puts the caret at an offset (after a label is made, say) without scrolling the page.
  caretAt(offset) {
    const p = this.pointAt(offset);
    window.getSelection().collapse(p.node, p.offset);
  }

  pieceAt(offset) {
    const p = this.pointAt(offset);
    return p.node.parentElement;
  }
}

function signature(m) {
  return `${m.key}|${m.offset}|${m.length}|${m.kind}|${m.colour}|${m.status}|${m.title}`;
}

// The pieces of text[from, to), cut wherever a mark starts or ends; marks that began before
// `from` and go on past it cover the first piece.
function build(text, marks, from, to) {
  const points = new Set([from, to]);
  const byStart = new Map();
  const active0 = [];
  for (const mark of marks) {
    const end = mark.offset + mark.length;
    if (mark.offset > from && mark.offset < to) points.add(mark.offset);
    if (end > from && end < to) points.add(end);
    if (mark.offset <= from) {
      if (end > from) active0.push(mark);
    } else {
      const list = byStart.get(mark.offset);
      if (list) list.push(mark); else byStart.set(mark.offset, [mark]);
    }
  }
  const cuts = [...points].sort((a, b) => a - b);
  const fragment = document.createDocumentFragment();
  const starts = [];
  const pieces = [];
  let active = active0;
  for (let i = 0; i < cuts.length - 1; i += 1) {
    const a = cuts[i];
    const b = cuts[i + 1];
    active = active.filter((m) => m.offset + m.length > a);
    const starting = byStart.get(a);
    if (starting) active.push(...starting);
    const piece = document.createElement('span');
    piece.dataset.start = String(a);
    piece.className = 'piece';
    if (active.length) decorate(piece, active, a);
    piece.append(document.createTextNode(text.slice(a, b)));
    fragment.append(piece);
    starts.push(a);
    pieces.push(piece);
  }
  return { fragment, starts, pieces };
}

// Classes for a piece covered by marks: the innermost label (the latest to start, then the
// shortest) gives its solid underline, the innermost suggestion its dotted one.
function decorate(piece, active, from) {
  let label = null;
  let suggestion = null;
  for (const m of active) {
    if (m.kind === 'label') {
      if (!label || m.offset > label.offset || (m.offset === label.offset && m.length < label.length)) label = m;
    } else if (!suggestion || m.offset > suggestion.offset
               || (m.offset === suggestion.offset && m.length < suggestion.length)) {
      suggestion = m;
    }
  }
  const classes = ['piece'];
  const titles = [];
  if (label) {
    classes.push('lab', `l${label.colour}`);
    if (label.status === 'new' || label.status === 'accepted') classes.push('unsaved');
    if (active.some((m) => m.kind === 'label' && m.offset === from)) classes.push('lstart');
  }
  if (suggestion) classes.push('sug', `s${suggestion.colour}`);
  for (const m of active) titles.push(m.title);
  piece.className = classes.join(' ');
  piece.dataset.keys = active.map((m) => m.key).join(' ');
  piece.title = titles.join('\n');
}

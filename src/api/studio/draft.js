// A document as the API last answered it, plus the changes made in the page and not saved
// yet: labels added or removed, suggestions accepted or rejected. "Save labels" sends them
// all in one :save-labels with If-Match, so they land together or not at all.
//
// The checks mirror the server's (src/domain/document.py), so that a save is not refused
// for a reason the page could have said at once: a label of the same entity at the same
// place, an overlap where the project's policy rejects overlaps, and a pending suggestion
// that a label covers (the server drops it, "superseded", when the label is written).

import { codePoints, snapSpan } from './offsets.js';

export const MAX_LABEL_CHARACTERS = 500;

export class DraftError extends Error {}

function overlaps(a, b) {
  return a.offset < b.offset + b.length && b.offset < a.offset + a.length;
}

// Labels sorted by offset, to find those overlapping a span without looking at them all: a
// label is at most 500 code points, so at most 1,000 UTF-16 units, long.
const LONGEST = 2 * MAX_LABEL_CHARACTERS;

class SpanIndex {
  constructor(items) {
    this.items = [...items].sort((a, b) => a.offset - b.offset);
  }

  overlapping(span) {
    let lo = 0;
    let hi = this.items.length;
    const from = span.offset - LONGEST;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid].offset < from) lo = mid + 1; else hi = mid;
    }
    const found = [];
    for (let i = lo; i < this.items.length && this.items[i].offset < span.offset + span.length; i += 1) {
      if (overlaps(this.items[i], span)) found.push(this.items[i]);
    }
    return found;
  }
}

export class Draft {
  constructor(doc, etag, entities, overlapAllowed) {
    this.doc = doc;
    this.etag = etag;
    this.text = doc.text;
    this.entities = entities;
    this.overlapAllowed = overlapAllowed;
    this.adds = [];
    this.removed = new Set();
    this.decisions = new Map(); // suggestion id -> 'accept' | 'reject'
    this.undoStack = [];
    this.nextTemp = 1;
  }

  get dirty() {
    return this.adds.length > 0 || this.removed.size > 0 || this.decisions.size > 0;
  }

  changeCounts() {
    let accepted = 0;
    let rejected = 0;
    for (const decision of this.decisions.values()) {
      if (decision === 'accept') accepted += 1; else rejected += 1;
    }
    return { added: this.adds.length, removed: this.removed.size, accepted, rejected };
  }

  colourOf(category) {
    const i = this.entities.indexOf(category);
    return i < 0 ? 11 : i % 12;
  }

  textOf(item) {
    return this.text.slice(item.offset, item.offset + item.length);
  }

  // The labels the document will hold once saved: saved ones not removed, accepted
  // suggestions, and new ones.
  labels() {
    const out = [];
    for (const l of this.doc.labels) {
      if (!this.removed.has(l.id)) {
        out.push({ key: `L:${l.id}`, id: l.id, category: l.category, offset: l.offset, length: l.length,
          status: l.origin && l.origin.kind === 'acceptedSuggestion' ? 'fromSuggestion' : 'saved' });
      }
    }
    for (const s of this.doc.suggestions) {
      if (this.decisions.get(s.id) === 'accept') {
        out.push({ key: `S:${s.id}`, id: s.id, category: s.category, offset: s.offset, length: s.length,
          status: 'accepted', suggestion: s });
      }
    }
    for (const a of this.adds) {
      out.push({ key: `N:${a.id}`, id: a.id, category: a.category, offset: a.offset, length: a.length, status: 'new' });
    }
    return out;
  }

  // Every suggestion the API showed as pending, with what the page made of it: pending,
  // accepted, rejected, or replaced (a label covers it: the server drops it on save).
  suggestions(labels = this.labels()) {
    const index = new SpanIndex(labels);
    return this.doc.suggestions.map((s) => {
      const decision = this.decisions.get(s.id);
      let state = decision === 'accept' ? 'accepted' : decision === 'reject' ? 'rejected' : 'pending';
      if (state === 'pending' && this.blockerOf(s, index)) state = 'replaced';
      return { key: `S:${s.id}`, id: s.id, category: s.category, offset: s.offset, length: s.length,
        confidence: s.confidence, modelLabel: s.modelLabel, state };
    });
  }

  // The label that keeps a suggestion from being accepted (the server's rule: any
  // overlapping label, or where the project allows overlaps, one of the same entity).
  blockerOf(s, index = new SpanIndex(this.labels())) {
    return index.overlapping(s).find((l) => l.key !== `S:${s.id}`
      && (!this.overlapAllowed || l.category === s.category)) ?? null;
  }

  pendingCount() {
    return this.suggestions().filter((s) => s.state === 'pending').length;
  }

  describe(item) {
    return `${item.category} “${this.textOf(item).replace(/\s+/g, ' ').trim()}”`;
  }

  // Adds a label over [start, end) of the text, widened to whole characters and trimmed;
  // answers the new label, or throws DraftError saying why not.
  addLabel(category, start, end) {
    if (!this.entities.includes(category)) throw new DraftError(`There is no entity type “${category}”.`);
    const span = snapSpan(this.text, start, end);
    if (!span) throw new DraftError('The selection holds only white space: select a word or more.');
    const label = { offset: span.start, length: span.end - span.start, category };
    const size = codePoints(this.text.slice(span.start, span.end));
    if (size > MAX_LABEL_CHARACTERS) {
      throw new DraftError(`A label may be at most ${MAX_LABEL_CHARACTERS} characters long; this selection has ${size}.`);
    }
    for (const other of this.labels()) {
      if (other.category === category && other.offset === label.offset && other.length === label.length) {
        throw new DraftError(`That text is already labeled ${category}.`);
      }
      if (!this.overlapAllowed && overlaps(other, label)) {
        throw new DraftError(`That overlaps the label ${this.describe(other)}, and this project does not allow `
          + 'overlapping labels: remove that one first.');
      }
    }
    const added = { id: `new-${this.nextTemp}`, ...label };
    this.nextTemp += 1;
    this.adds.push(added);
    this.undoStack.push({ undo: () => { this.adds = this.adds.filter((a) => a !== added); } });
    return { key: `N:${added.id}`, ...added };
  }

  // Removes a label by its key (an accepted suggestion goes back to pending).
  removeLabel(key) {
    const [kind, id] = [key.slice(0, 1), key.slice(2)];
    if (kind === 'L') {
      this.removed.add(id);
      this.undoStack.push({ undo: () => this.removed.delete(id) });
    } else if (kind === 'N') {
      const gone = this.adds.find((a) => a.id === id);
      this.adds = this.adds.filter((a) => a !== gone);
      this.undoStack.push({ undo: () => this.adds.push(gone) });
    } else if (kind === 'S') {
      this.decide([id], null);
    }
  }

  // Decides suggestions: 'accept', 'reject' or null (pending again). Answers how many changed.
  decide(ids, decision) {
    const before = new Map(ids.map((id) => [id, this.decisions.get(id)]));
    if (decision === 'accept') {
      for (const id of ids) {
        const s = this.doc.suggestions.find((x) => x.id === id);
        const blocker = this.blockerOf(s);
        if (blocker) throw new DraftError(`The suggestion ${this.describe(s)} overlaps the label ${this.describe(blocker)}.`);
        this.decisions.set(id, 'accept');
      }
    } else {
      for (const id of ids) {
        if (decision) this.decisions.set(id, decision); else this.decisions.delete(id);
      }
    }
    this.undoStack.push({ undo: () => {
      for (const [id, was] of before) {
        if (was) this.decisions.set(id, was); else this.decisions.delete(id);
      }
    } });
    return ids.length;
  }

  // Accepts every pending suggestion in text order (longest first at a place), as the
  // server's accept-all does; one a label or an earlier acceptance covers is left for the
  // server to drop. Answers how many were accepted and how many left.
  acceptAll() {
    const pending = this.suggestions().filter((s) => s.state === 'pending')
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    const before = new Map(this.decisions);
    const index = new SpanIndex(this.labels());
    const taken = []; // accepted in this pass, in text order
    let left = 0;
    const blocks = (l, s) => overlaps(l, s) && (!this.overlapAllowed || l.category === s.category);
    for (const s of pending) {
      let blocked = Boolean(this.blockerOf(s, index));
      for (let i = taken.length - 1; !blocked && i >= 0 && taken[i].offset >= s.offset - LONGEST; i -= 1) {
        blocked = blocks(taken[i], s);
      }
      if (blocked) { left += 1; continue; }
      this.decisions.set(s.id, 'accept');
      taken.push(s);
    }
    const accepted = taken.length;
    this.undoStack.push({ undo: () => { this.decisions = before; } });
    return { accepted, left };
  }

  rejectAll() {
    const pending = this.suggestions().filter((s) => s.state === 'pending');
    const before = new Map(this.decisions);
    for (const s of pending) this.decisions.set(s.id, 'reject');
    this.undoStack.push({ undo: () => { this.decisions = before; } });
    return pending.length;
  }

  undo() {
    const last = this.undoStack.pop();
    if (!last) return false;
    last.undo();
    return true;
  }

  // The one :save-labels body (offsets in UTF-16 code units).
  body() {
    const sorted = (ids) => ids.map((id) => this.doc.suggestions.find((s) => s.id === id))
      .sort((a, b) => a.offset - b.offset || b.length - a.length).map((s) => s.id);
    const accept = [];
    const reject = [];
    for (const [id, decision] of this.decisions) (decision === 'accept' ? accept : reject).push(id);
    return {
      add: this.adds.map(({ category, offset, length }) => ({ category, offset, length })),
      remove: [...this.removed],
      accept: sorted(accept),
      reject: sorted(reject),
    };
  }
}

// A document: label by selecting text and picking an entity (mouse or keys 1-9), remove
// labels, review a model's suggestions (accept, reject, all at once), save everything in one
// :save-labels guarded by the document's ETag, and see the document's history.

import { call, path, UTF16 } from './api.js';
import { Draft, DraftError } from './draft.js';
import { excerpt, h, plural } from './dom.js';
import { historyTable, loadHistory } from './history.js';
import { TextView } from './textview.js';
import { route, setCrumbs, showError } from './ui.js';

let stopping = null; // aborts the listeners of the document on show

export function stopDocument() {
  if (stopping) stopping.abort();
  stopping = null;
}

async function fetchDocument(project, name) {
  const { data, etag } = await call('GET', path(project, 'documents', name), { query: { stringIndexType: UTF16 } });
  return { doc: data, etag };
}

function typingIn(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest('input, textarea, select, [contenteditable="true"]:not(#doc-text)'));
}

function stateWords(item) {
  switch (item.status) {
    case 'saved': return 'label';
    case 'fromSuggestion': return 'label, from an accepted suggestion';
    case 'new': return 'new label, not saved';
    case 'accepted': return 'accepted';
    case 'pending': return `suggestion, confidence ${item.confidence.toFixed(2)}`;
    case 'rejected': return 'rejected';
    case 'replaced': return 'suggestion replaced by a label';
    default: return item.status;
  }
}

export async function showDocument(main, project, name, { setLeaveGuard }) {
  stopDocument();
  const controller = new AbortController();
  stopping = controller;
  const signal = controller.signal;
  const started = performance.now();
  setCrumbs([{ route: '/', text: 'Projects' }, { route: route('p', project), text: project },
    { route: route('p', project, 'd', name), text: name }]);

  const [{ data: info }, { data: entityPage }, loaded] = await Promise.all([
    call('GET', path(project)),
    call('GET', path(project, 'entities'), { query: { maxpagesize: 1000 } }),
    fetchDocument(project, name),
  ]);
  const entities = entityPage.value.map((e) => e.category);
  const overlapAllowed = info.overlapPolicy === 'allow';
  let draft = new Draft(loaded.doc, loaded.etag, entities, overlapAllowed);
  let lastSelection = null;
  let activeKey = null;
  let saving = false;

  setLeaveGuard(() => (draft.dirty ? 'This document has unsaved labels or decisions. Leave and lose them?' : null));

  // -- the screen ------------------------------------------------------------------------
  const meta = h('p', { class: 'meta' });
  const acceptAll = h('button', { type: 'button', id: 'accept-all', text: 'Accept all' });
  const rejectAll = h('button', { type: 'button', id: 'reject-all', text: 'Reject all' });
  const stale = h('div', { class: 'stale', id: 'stale', role: 'alert', hidden: true });
  const entityButtons = entities.map((category, i) => h('button', {
    type: 'button', class: `entity-btn l${i % 12}`, dataset: { entity: category },
    'aria-keyshortcuts': i < 9 ? String(i + 1) : undefined,
    title: i < 9 ? `Label the selection ${category} (key ${i + 1})` : `Label the selection ${category}`,
  }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), i < 9 ? h('kbd', { text: String(i + 1) }) : null, ` ${category}`));
  const changes = h('span', { class: 'changes', role: 'status', 'aria-live': 'polite' });
  const undo = h('button', { type: 'button', id: 'undo', text: 'Undo', 'aria-keyshortcuts': 'Control+Z' });
  const save = h('button', { type: 'button', id: 'save', class: 'primary', text: 'Save labels',
    'aria-keyshortcuts': 'Control+S' });
  const textRoot = h('div', {
    id: 'doc-text', class: 'doc-text', contenteditable: 'true', role: 'textbox', 'aria-multiline': 'true',
    'aria-readonly': 'true', spellcheck: 'false', autocorrect: 'off', autocapitalize: 'off', translate: 'no',
    'aria-label': 'Document text. Select text with Shift and the arrow keys, then press 1 to 9 to label it.',
    'aria-describedby': 'doc-help',
  });
  const view = new TextView(textRoot);
  const list = h('ul', { id: 'items', class: 'items', 'aria-label': 'Labels and suggestions, in text order' });
  const itemsSummary = h('p', { class: 'summary' });
  const historyBody = h('div', { class: 'history-body' });
  const historyRefresh = h('button', { type: 'button', text: 'Refresh history' });
  const history = h('details', { class: 'card history', id: 'history' },
    h('summary', {}, h('h2', { text: 'History' })), historyRefresh, historyBody);

  main.replaceChildren(
    h('div', { class: 'screen-head doc-head' },
      h('div', {}, h('h1', { text: name }), meta),
      h('div', { class: 'review-actions', role: 'group', 'aria-label': 'Review all suggestions' }, acceptAll, rejectAll)),
    stale,
    h('div', { class: 'doc-grid' },
      h('section', { class: 'card doc-card', 'aria-label': 'Labeling' },
        h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Entity to apply to the selection' },
          entityButtons.length ? entityButtons : h('span', { text: 'This project has no entity types yet: add them on '
            + 'the project page.' })),
        h('div', { class: 'savebar' }, changes, h('span', { class: 'spacer' }), undo, save),
        textRoot,
        h('p', { class: 'hint', id: 'doc-help', text: 'Select text (mouse, or Shift with the arrow keys), then press '
          + '1–9 or click an entity. Suggestions are dotted; accept (✓) or reject (✗) them in the list, where '
          + 'the arrow keys move between rows, A accepts, X rejects, Delete removes and Enter shows the text. '
          + 'Ctrl+S saves, Ctrl+Z undoes.' })),
      h('aside', { class: 'card items-card', 'aria-labelledby': 'items-title' },
        h('h2', { id: 'items-title', text: 'Labels and suggestions' }), itemsSummary, list),
      history));

  // -- drawing ---------------------------------------------------------------------------
  // The line above the text says what just happened, or (problem) why it did not.
  function say(message, problem = false) {
    changes.textContent = message;
    changes.classList.toggle('problem', problem);
  }

  function changesWords() {
    const c = draft.changeCounts();
    const parts = [];
    if (c.added) parts.push(`${c.added} added`);
    if (c.removed) parts.push(`${c.removed} removed`);
    if (c.accepted) parts.push(`${c.accepted} accepted`);
    if (c.rejected) parts.push(`${c.rejected} rejected`);
    return parts.length ? `Not saved: ${parts.join(', ')}.` : 'No unsaved changes.';
  }

  function rowFor(item, sig) {
    const words = `${item.category}: ${excerpt(draft.textOf(item), 80)}`;
    const buttons = [];
    const button = (text, label, action, cls) => h('button', {
      type: 'button', class: `item-btn ${cls}`, tabindex: '-1', 'aria-label': `${label} ${words}`, text,
      dataset: { action },
    });
    if (item.status === 'accepted' || item.status === 'rejected') {
      buttons.push(button('Undo', 'Undo the decision on', 'undecide', 'undo-btn'));
    } else if (item.status === 'pending') {
      buttons.push(button('✓', 'Accept', 'accept', 'accept-btn'), button('✗', 'Reject', 'reject', 'reject-btn'));
    } else if (item.status !== 'replaced') {
      buttons.push(button('Remove', 'Remove', 'remove', 'remove-btn'));
    }
    return h('li', {
      class: `item ${item.kind} status-${item.status}`, tabindex: '-1', dataset: { key: item.key, sig },
      'aria-label': `${words}, ${stateWords(item)}`,
    },
    h('span', { class: `swatch l${draft.colourOf(item.category)}`, 'aria-hidden': 'true' }),
    h('span', { class: 'item-main' }, h('span', { class: 'item-cat', text: item.category }), ' ',
      h('span', { class: 'item-text', text: excerpt(draft.textOf(item), 80) })),
    h('span', { class: 'item-state', text: stateWords(item) }),
    h('span', { class: 'item-buttons' }, buttons));
  }

  // Brings the list up to date, keeping the rows that did not change (a long document's
  // thousands of rows are not rebuilt for each label).
  function updateList(all) {
    const byKey = new Map([...list.children].map((r) => [r.dataset.key, r]));
    const wanted = new Set(all.map((i) => i.key));
    for (const [key, row] of byKey) if (!wanted.has(key)) row.remove();
    let cursor = list.firstElementChild;
    for (const item of all) {
      const sig = `${item.status}|${item.category}|${item.offset}|${item.length}`;
      if (cursor && cursor.dataset.key === item.key) {
        if (cursor.dataset.sig === sig) {
          cursor = cursor.nextElementSibling;
          continue;
        }
        const fresh = rowFor(item, sig);
        cursor.replaceWith(fresh);
        cursor = fresh.nextElementSibling;
        continue;
      }
      const existing = byKey.get(item.key);
      let node = existing && existing.isConnected && existing.dataset.sig === sig ? existing : null;
      if (!node) {
        if (existing) existing.remove();
        node = rowFor(item, sig);
      }
      list.insertBefore(node, cursor);
    }
  }

  function items() {
    const labels = draft.labels();
    const suggestions = draft.suggestions(labels).filter((s) => s.state !== 'accepted');
    const all = [
      ...labels.map((l) => ({ ...l, kind: 'label' })),
      ...suggestions.map((s) => ({ ...s, kind: 'suggestion', status: s.state })),
    ];
    all.sort((a, b) => a.offset - b.offset || b.length - a.length || (a.kind < b.kind ? -1 : 1));
    return { labels, suggestions, all };
  }

  function setActive(row, focus = false) {
    const previous = list.querySelector('.item[tabindex="0"]');
    if (previous && previous !== row) {
      previous.tabIndex = -1;
      for (const b of previous.querySelectorAll('button')) b.tabIndex = -1;
    }
    if (!row) return;
    row.tabIndex = 0;
    for (const b of row.querySelectorAll('button')) b.tabIndex = 0;
    activeKey = row.dataset.key;
    if (focus) row.focus();
  }

  function redraw({ focusKey = null, focusIndex = null } = {}) {
    const { labels, suggestions, all } = items();
    const marks = [
      ...labels.map((l) => ({ key: l.key, offset: l.offset, length: l.length, kind: 'label',
        colour: draft.colourOf(l.category), status: l.status,
        title: `${l.category}${l.status === 'new' || l.status === 'accepted' ? ' (not saved)' : ''}` })),
      ...suggestions.filter((s) => s.state === 'pending').map((s) => ({ key: s.key, offset: s.offset, length: s.length,
        kind: 'suggestion', colour: draft.colourOf(s.category), status: 'pending',
        title: `${s.category}? suggested by ${s.modelLabel}, confidence ${s.confidence.toFixed(2)}` })),
    ];
    view.render(draft.text, marks);
    updateList(all);
    const pending = suggestions.filter((s) => s.state === 'pending').length;
    itemsSummary.textContent = `${plural(labels.length, 'label')}, ${plural(pending, 'suggestion')} to review.`;
    acceptAll.disabled = pending === 0 || saving;
    rejectAll.disabled = pending === 0 || saving;
    save.disabled = !draft.dirty || saving || !stale.hidden;
    undo.disabled = draft.undoStack.length === 0 || saving;
    const d = draft.doc;
    meta.textContent = `${d.dataset} set · ${d.characters.toLocaleString()} characters · `
      + `${plural(d.textRecords, 'text record')} · version ${d.version}`;
    const rows = list.children;
    let row = null;
    const key = focusKey ?? activeKey;
    if (key) row = list.querySelector(`.item[data-key="${CSS.escape(key)}"]`);
    if (!row && focusIndex !== null && rows.length) row = rows[Math.min(focusIndex, rows.length - 1)];
    if (!row && rows.length) row = rows[0];
    setActive(row, Boolean(focusKey !== null || focusIndex !== null) && Boolean(row));
    if (!changes.dataset.keep) say(changesWords());
    delete changes.dataset.keep;
  }

  function announce(message) {
    changes.dataset.keep = '1';
    say(message);
  }

  // -- labeling --------------------------------------------------------------------------
  function applyEntity(category) {
    const selection = view.selected() ?? lastSelection;
    if (!selection) {
      say('Select some text first, then choose an entity.', true);
      return;
    }
    let added;
    try {
      added = draft.addLabel(category, selection.start, selection.end);
    } catch (error) {
      if (error instanceof DraftError) { say(error.message, true); return; }
      throw error;
    }
    lastSelection = null;
    const inText = document.activeElement === textRoot;
    announce(`Labeled ${draft.describe(added)} (not saved yet).`);
    redraw();
    if (inText) view.caretAt(added.offset + added.length);
  }

  function act(action, key) {
    const index = [...list.children].findIndex((r) => r.dataset.key === key);
    const id = key.slice(2);
    try {
      if (action === 'remove') draft.removeLabel(key);
      else if (action === 'accept') draft.decide([id], 'accept');
      else if (action === 'reject') draft.decide([id], 'reject');
      else if (action === 'undecide') draft.decide([id], null);
    } catch (error) {
      if (error instanceof DraftError) { say(error.message, true); return; }
      throw error;
    }
    redraw({ focusKey: action === 'remove' ? null : key, focusIndex: index });
  }

  function undoLast() {
    if (draft.undo()) {
      announce('Undone.');
      redraw();
    }
  }

  async function reload() {
    const fresh = await fetchDocument(project, name);
    draft = new Draft(fresh.doc, fresh.etag, entities, overlapAllowed);
    stale.hidden = true;
    stale.replaceChildren();
    redraw();
    if (history.open) showHistory();
  }

  function showStale(message) {
    stale.hidden = false;
    const again = h('button', { type: 'button', id: 'reload', class: 'primary', text: 'Reload the document' });
    again.addEventListener('click', async () => {
      again.disabled = true;
      try {
        await reload();
        announce('Reloaded: this is the document as it is now. Your unsaved changes were dropped.');
        textRoot.focus();
      } catch (error) {
        showError(error, 'Reloading failed');
        again.disabled = false;
      }
    });
    stale.replaceChildren(
      h('p', {}, h('strong', { text: 'This document was changed since you opened it. ' }),
        'Someone (or a job) saved labels or suggestions on it meanwhile, so your changes were not saved '
        + 'and nothing was overwritten. Reload it to see it as it is now; your unsaved changes will be dropped.'),
      h('p', { class: 'hint', text: message }), again);
    save.disabled = true;
    again.focus();
  }

  async function saveLabels() {
    if (!draft.dirty || saving) return;
    saving = true;
    save.disabled = true;
    say('Saving…');
    const counts = draft.changeCounts();
    try {
      await call('POST', `${path(project, 'documents', name)}/:save-labels`, {
        query: { stringIndexType: UTF16 }, body: draft.body(), ifMatch: draft.etag,
      });
    } catch (error) {
      saving = false;
      if (error.status === 412) {
        showStale(error.message);
        redraw();
        say('Not saved: the document changed meanwhile.', true);
      } else {
        redraw();
        showError(error, 'Saving the labels failed');
        say(`Not saved: ${error.message}`, true);
      }
      return;
    }
    saving = false;
    try {
      await reload();
    } catch (error) {
      showError(error, 'Saved, but reloading the document failed');
      return;
    }
    const parts = [];
    if (counts.added) parts.push(`${counts.added} added`);
    if (counts.removed) parts.push(`${counts.removed} removed`);
    if (counts.accepted) parts.push(`${counts.accepted} accepted`);
    if (counts.rejected) parts.push(`${counts.rejected} rejected`);
    announce(`Saved: ${parts.join(', ')}.`);
  }

  async function showHistory() {
    historyBody.replaceChildren(h('p', { role: 'status', text: 'Loading the history…' }));
    try {
      historyBody.replaceChildren(historyTable(await loadHistory(project, name, draft.text)));
    } catch (error) {
      historyBody.replaceChildren(h('p', { text: `The history could not be loaded: ${error.message}` }));
    }
  }

  // -- events ----------------------------------------------------------------------------
  for (const button of entityButtons) {
    // Keep the text's selection (and focus) when an entity is clicked.
    button.addEventListener('mousedown', (event) => event.preventDefault());
    button.addEventListener('click', () => applyEntity(button.dataset.entity));
  }
  acceptAll.addEventListener('click', () => {
    const { accepted, left } = draft.acceptAll();
    announce(`${plural(accepted, 'suggestion')} accepted${left ? `; ${left} overlapping others left out` : ''} (not saved yet).`);
    redraw();
  });
  rejectAll.addEventListener('click', () => {
    const n = draft.rejectAll();
    announce(`${plural(n, 'suggestion')} rejected (not saved yet).`);
    redraw();
  });
  save.addEventListener('click', saveLabels);
  undo.addEventListener('click', undoLast);
  historyRefresh.addEventListener('click', showHistory);
  history.addEventListener('toggle', () => { if (history.open) showHistory(); });

  // The text is contenteditable for its keyboard caret and selection only: no edit gets in.
  textRoot.addEventListener('beforeinput', (event) => event.preventDefault());
  for (const type of ['paste', 'cut', 'drop', 'dragstart']) textRoot.addEventListener(type, (e) => e.preventDefault());
  textRoot.addEventListener('click', () => {
    if (view.selected()) return;
    const piece = window.getSelection().anchorNode?.parentElement?.closest('[data-keys]');
    if (!piece) return;
    const key = piece.dataset.keys.split(' ').pop();
    const row = list.querySelector(`.item[data-key="${CSS.escape(key)}"]`);
    if (row) {
      setActive(row);
      row.classList.add('current');
      row.scrollIntoView({ block: 'nearest' });
      setTimeout(() => row.classList.remove('current'), 1500);
    }
  });

  document.addEventListener('selectionchange', () => {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0) return;
    const current = view.selected();
    if (current) lastSelection = current;
    else if (textRoot.contains(selection.anchorNode)) lastSelection = null;
  }, { signal });

  document.addEventListener('keydown', (event) => {
    if (!document.body.contains(textRoot)) return;
    const mod = event.ctrlKey || event.metaKey;
    if (mod && !event.altKey && (event.key === 's' || event.key === 'S')) {
      event.preventDefault();
      saveLabels();
      return;
    }
    if (typingIn(event.target)) return;
    if (mod && !event.altKey && !event.shiftKey && (event.key === 'z' || event.key === 'Z')) {
      event.preventDefault();
      undoLast();
      return;
    }
    if (!mod && !event.altKey && /^[1-9]$/.test(event.key) && !event.target.closest?.('.item')) {
      const category = entities[Number(event.key) - 1];
      event.preventDefault();
      if (category) applyEntity(category);
      else say(`There is no entity type number ${event.key}.`, true);
    }
  }, { signal });

  list.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    act(button.dataset.action, button.closest('.item').dataset.key);
  });
  list.addEventListener('focusin', (event) => {
    const row = event.target.closest('.item');
    if (row && row.tabIndex !== 0) setActive(row);
  });
  list.addEventListener('keydown', (event) => {
    const row = event.target.closest('.item');
    if (!row) return;
    const rows = [...list.children];
    const at = rows.indexOf(row);
    let next = null;
    if (event.key === 'ArrowDown') next = rows[at + 1];
    else if (event.key === 'ArrowUp') next = rows[at - 1];
    else if (event.key === 'Home') next = rows[0];
    else if (event.key === 'End') next = rows[rows.length - 1];
    if (next) {
      event.preventDefault();
      setActive(next, true);
      return;
    }
    if (event.target !== row) return; // a row's buttons answer Enter and Space themselves
    const key = row.dataset.key;
    const action = row.querySelector('button[data-action]')?.dataset.action;
    if ((event.key === 'Delete' || event.key === 'Backspace') && action === 'remove') {
      event.preventDefault();
      act('remove', key);
    } else if ((event.key === 'a' || event.key === 'A') && action === 'accept') {
      event.preventDefault();
      act('accept', key);
    } else if ((event.key === 'x' || event.key === 'X') && action === 'accept') {
      event.preventDefault();
      act('reject', key);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const item = items().all.find((i) => i.key === key);
      if (item) {
        view.select(item.offset, item.offset + item.length);
        view.pieceAt(item.offset).scrollIntoView({ block: 'center' });
      }
    }
  });

  redraw();
  textRoot.dataset.ready = 'true';
  const rendered = performance.now();
  window.studioTimings = { document: name, openMs: rendered - started, sinceNavigationMs: rendered };
}

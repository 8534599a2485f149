// The fast review queue: a project's pending suggestions one at a time, each in its sentence,
// lowest confidence first (or by entity, or by job). Keys: A accepts, X rejects, U undoes
// the last decision made here, Space skips. Each decision is saved at once, one request each.
//
// The queue is the API's own project-wide list, GET .../autolabel/suggestions (Utf16CodeUnit
// offsets), read page by page (nextLink); the order and the entity and job filters are the
// server's. Each item carries up to CONTEXT characters of its document's text on either side,
// enough for its sentence. A document is read only to learn what is still pending in it after
// an acceptance (which supersedes what the label covers), a refusal or an undo.

import { all, call, follow, path, UTF16 } from './api.js';
import { excerpt, h, plural } from './dom.js';
import { link, route, setCrumbs } from './ui.js';

const PAGE_SIZE = 1000; // suggestions asked for in one page (the API's most)
const CONTEXT = 80; // characters (code points) of text the API gives on either side

const ORDERS = [
  ['confidence', 'Lowest confidence first'],
  ['entity', 'By entity'],
  ['job', 'By job'],
  ['document', 'By document, in text order'],
];

let stopping = null;
const presets = new Map(); // project -> the entity filter to open the queue with

export function stopQueue() {
  if (stopping) stopping.abort();
  stopping = null;
}

// Opens the project's queue on an entity next time (from the documents list's filter).
export function presetQueue(project, entity) {
  presets.set(project, entity || '');
}

function typingIn(target) {
  return target instanceof Element && Boolean(target.closest('input, textarea, select'));
}

// The sentence around [start, end) of `text` (a suggestion with the context the API gave it):
// back to the last sentence end or line break before it and on to the next one after it, or to
// the edges of `text`; `from` and `to` say where it stopped.
export function sentenceAround(text, start, end) {
  let from = start;
  while (from > 0) {
    const c = text[from - 1];
    if (c === '\n' || c === '\r') break;
    if (/[.!?…]/.test(text[from - 2] ?? '') && /\s/.test(c)) break;
    from -= 1;
  }
  let to = end;
  while (to < text.length) {
    const c = text[to];
    if (c === '\n' || c === '\r') break;
    to += 1;
    if (/[.!?…]/.test(c) && (to >= text.length || /\s/.test(text[to]))) break;
  }
  return {
    before: text.slice(from, start).trimStart(), span: text.slice(start, end), after: text.slice(end, to).trimEnd(),
    from, to,
  };
}

// A suggestion in its sentence, from the context the API gave it; cut (an ellipsis) where the
// sentence runs on past that context and the document goes on.
function inSentence(s) {
  const start = s.before.length;
  const part = sentenceAround(s.before + s.text + s.after, start, start + s.text.length);
  return {
    ...part,
    cutBefore: part.from === 0 && s.offset > start, // UTF-16 both: text left before the context
    cutAfter: part.to === start + s.text.length + s.after.length && [...s.after].length >= CONTEXT,
  };
}

// A suggestion of the route's page, as the queue keeps it.
function queued(item) {
  return {
    id: item.suggestionId, document: item.documentName, category: item.category, offset: item.offset,
    length: item.length, text: item.text, before: item.before ?? '', after: item.after ?? '',
    confidence: item.confidenceScore, modelLabel: item.modelLabel, jobId: item.jobId,
  };
}

export async function showQueue(main, project) {
  stopQueue();
  const controller = new AbortController();
  stopping = controller;
  const signal = controller.signal;
  setCrumbs([{ route: '/', text: 'Projects' }, { route: route('p', project), text: project },
    { route: route('p', project, 'queue'), text: 'Review queue' }]);

  const [entityList, jobList] = await Promise.all([
    all(path(project, 'entities')),
    all(path(project, 'autolabel', 'jobs'), {}, 200).catch(() => []),
  ]);
  const entities = entityList.map((e) => e.category);
  const colour = (category) => {
    const i = entities.indexOf(category);
    return i < 0 ? 'l11' : `l${i % 12}`;
  };

  const mine = new Map(); // document name -> the ETag of this page's own last write to it
  const decisions = []; // this session's decisions, newest last, for U
  const filter = { order: 'confidence', entity: presets.get(project) ?? '', job: '' };
  presets.delete(project);
  let queue = []; // pending suggestions still to show, the current one first
  let skipped = 0; // how many of the queue's tail were skipped
  let busy = false;
  let made = 0;
  let counts = { accepted: 0, rejected: 0, undone: 0 };
  const openedAt = performance.now();
  let loadSeq = 0;

  // -- the screen ------------------------------------------------------------------------
  const order = h('select', { id: 'q-order', name: 'order' },
    ORDERS.map(([value, text]) => h('option', { value, text })));
  const entity = h('select', { id: 'q-entity', name: 'entity' }, h('option', { value: '', text: 'Any' }),
    entities.map((e) => h('option', { value: e, text: e })));
  entity.value = filter.entity;
  const job = h('select', { id: 'q-job', name: 'job' }, h('option', { value: '', text: 'Any' }));
  const jobIds = new Set(jobList.map((j) => j.jobId));
  const fillJobs = () => {
    const keep = job.value;
    job.replaceChildren(h('option', { value: '', text: 'Any' }),
      ...[...jobIds].sort().map((id) => h('option', { value: id, text: id })));
    job.value = jobIds.has(keep) ? keep : '';
  };
  fillJobs();

  const where = h('p', { class: 'q-where', id: 'q-where' });
  const sentence = h('blockquote', { class: 'q-sentence', id: 'q-sentence' });
  const figures = h('p', { class: 'q-figures', id: 'q-figures' });
  const empty = h('p', { class: 'q-empty', id: 'q-empty', tabindex: '-1', hidden: true });
  const button = (id, text, key, shortcut, title) => h('button', {
    type: 'button', id, 'aria-keyshortcuts': shortcut, title,
  }, h('kbd', { text: key }), ` ${text}`);
  const acceptBtn = button('q-accept', 'Accept', 'A', 'A', 'Accept: it becomes a label (key A)');
  const rejectBtn = button('q-reject', 'Reject', 'X', 'X', 'Reject the suggestion (key X)');
  const skipBtn = button('q-skip', 'Skip', 'Space', 'Space', 'Go on to the next without deciding (Space)');
  const undoBtn = button('q-undo', 'Undo', 'U', 'U', 'Take back the last decision made here (key U)');
  acceptBtn.classList.add('accept-btn');
  rejectBtn.classList.add('reject-btn');
  const current = h('div', { class: 'q-current', id: 'q-current' }, where, sentence, figures);
  const problem = h('p', { class: 'refusal', id: 'q-problem', role: 'alert', hidden: true });
  const live = h('p', { class: 'sr-only', id: 'q-live', role: 'status', 'aria-live': 'polite' });
  const madeEl = h('span', { id: 'q-decisions' });
  const rateEl = h('span', { id: 'q-rate' });
  const leftEl = h('span', { id: 'q-remaining' });
  const loading = h('p', { class: 'loading', id: 'q-loading', role: 'status' });

  main.replaceChildren(
    h('div', { class: 'screen-head' }, h('h1', { text: 'Review queue' }),
      h('p', { class: 'meta', text: 'One suggestion at a time, in its sentence. Each decision is saved at once.' }),
      h('p', { class: 'meta screen-links' }, link(route('p', project), 'Back to the project'))),
    h('div', { class: 'filters q-filters' },
      h('div', { class: 'field' }, h('label', { for: 'q-order', text: 'Order' }), order),
      h('div', { class: 'field' }, h('label', { for: 'q-entity', text: 'Entity' }), entity),
      h('div', { class: 'field' }, h('label', { for: 'q-job', text: 'Job' }), job)),
    h('p', { class: 'q-counter', id: 'q-counter' }, madeEl, ' · ', rateEl, ' · ', leftEl),
    problem,
    h('section', { class: 'card q-card', 'aria-labelledby': 'q-title' },
      h('h2', { id: 'q-title', class: 'sr-only', text: 'Current suggestion' }),
      loading, current, empty,
      h('div', { class: 'q-actions', role: 'group', 'aria-label': 'Decide' }, acceptBtn, rejectBtn, skipBtn,
        h('span', { class: 'spacer' }), undoBtn),
      h('p', { class: 'hint', text: 'Keys: A accepts, X rejects, Space skips, U undoes the last decision made '
        + 'here (anywhere on this screen but in the lists above). Enter presses the focused button.' })),
    live);

  // -- drawing ---------------------------------------------------------------------------
  const words = (s) => `${s.category} “${excerpt(s.text, 50)}”`;

  function counter() {
    madeEl.textContent = `${plural(made, 'decision')} in this session (${counts.accepted} accepted, `
      + `${counts.rejected} rejected${counts.undone ? `, ${counts.undone} undone` : ''})`;
    const minutes = (performance.now() - openedAt) / 60000;
    rateEl.textContent = made ? `${(made / Math.max(minutes, 1 / 60)).toFixed(1)} a minute` : '– a minute';
    leftEl.textContent = `${plural(queue.length, 'suggestion')} left${skipped ? ` (${skipped} skipped)` : ''}`;
  }
  const ticking = setInterval(counter, 5000);
  signal.addEventListener('abort', () => clearInterval(ticking));

  function describeNext() {
    const s = queue[0];
    return s ? `Next: ${words(s)} in ${s.document}, confidence ${s.confidence.toFixed(2)}.` : 'No suggestions to review.';
  }

  function draw() {
    counter();
    const s = queue[0];
    current.hidden = !s;
    empty.hidden = Boolean(s);
    for (const b of [acceptBtn, rejectBtn, skipBtn]) b.hidden = !s;
    undoBtn.setAttribute('aria-disabled', String(!decisions.length));
    if (!s) {
      empty.textContent = filter.entity || filter.job
        ? 'No suggestions to review with these filters.' : 'No suggestions to review.';
      if (!main.contains(document.activeElement) || document.activeElement.hidden) empty.focus();
      return;
    }
    const part = inSentence(s);
    const cls = colour(s.category);
    sentence.replaceChildren(part.cutBefore ? '…' : '', part.before,
      h('mark', { class: `q-span ${cls}`, id: 'q-span', dataset: { entity: s.category } }, part.span),
      h('span', { class: `q-tag ${cls}`, 'aria-hidden': 'true', text: s.category }),
      part.after, part.cutAfter ? '…' : '');
    sentence.setAttribute('aria-label', `Suggested ${s.category}: ${part.span}, in the sentence`);
    where.replaceChildren('Document ', link(route('p', project, 'd', s.document), s.document, { id: 'q-doc' }),
      ` · model ${s.modelLabel} · job ${s.jobId}`);
    figures.replaceChildren(h('span', { class: `chip ${cls}` }, h('span', { class: 'swatch', 'aria-hidden': 'true' }),
      h('span', { id: 'q-entity-name', text: s.category })),
    h('span', { id: 'q-confidence', text: ` confidence ${s.confidence.toFixed(2)}` }));
  }

  function say(message) {
    live.textContent = message;
  }

  function refuse(message) {
    problem.hidden = !message;
    problem.textContent = message || '';
  }

  // -- reading ---------------------------------------------------------------------------
  // The ids of the suggestions still pending in a document (none when it is gone).
  async function pendingIn(name) {
    try {
      const { data } = await call('GET', path(project, 'documents', name), { query: { stringIndexType: UTF16 } });
      return new Set(data.suggestions.filter((x) => (x.state ?? 'pending') === 'pending').map((x) => x.id));
    } catch (error) {
      if (error.status !== 404) throw error;
      return new Set();
    }
  }

  // Re-reads a document and brings the queue in line with it: what is no longer pending goes.
  async function reread(name) {
    const pending = await pendingIn(name);
    const before = queue.length;
    queue = queue.filter((s) => s.document !== name || pending.has(s.id));
    skipped = Math.min(skipped, queue.length);
    return { dropped: before - queue.length, pending };
  }

  // The queue from the API, page after page, in the server's order, with its filters.
  async function load() {
    const seq = ++loadSeq;
    loading.hidden = false;
    loading.textContent = 'Loading the suggestions…';
    current.hidden = true;
    empty.hidden = true;
    const query = {
      orderby: filter.order, entity: filter.entity, job: filter.job, stringIndexType: UTF16, maxpagesize: PAGE_SIZE,
    };
    let { data } = await call('GET', path(project, 'autolabel', 'suggestions'), { query });
    const items = [];
    const seen = new Set();
    for (;;) {
      for (const item of data.value) {
        const key = `${item.documentName}\u0000${item.suggestionId}`;
        if (seen.has(key)) continue; // moved onto the next page meanwhile
        seen.add(key);
        items.push(queued(item));
        if (item.jobId) jobIds.add(item.jobId);
      }
      if (!data.nextLink || seq !== loadSeq || signal.aborted) break;
      loading.textContent = `Loading the suggestions… ${items.length} read.`;
      ({ data } = await follow(data.nextLink));
    }
    if (seq !== loadSeq || signal.aborted) return;
    queue = items;
    skipped = 0;
    fillJobs();
    loading.textContent = '';
    loading.hidden = true;
    draw();
  }

  async function reload(focus, message) {
    refuse('');
    try {
      await load();
      say(`${message ?? `${plural(queue.length, 'suggestion')} to review.`} ${describeNext()}`);
    } catch (error) {
      loading.textContent = 'The suggestions could not be read.';
      refuse(error.message);
    }
    if (focus) focus.focus();
  }

  // -- deciding --------------------------------------------------------------------------
  async function decide(kind) {
    const s = queue[0];
    if (!s || busy) return;
    busy = true;
    refuse('');
    const verb = kind === 'accept' ? 'Accepted' : 'Rejected';
    try {
      const { data, etag } = await call('POST',
        `${path(project, 'documents', s.document, 'suggestions', s.id)}/:${kind}`);
      mine.set(s.document, etag ?? `"${data.version}"`);
      decisions.push({ suggestion: s, kind });
      made += 1;
      counts[kind === 'accept' ? 'accepted' : 'rejected'] += 1;
      queue.shift();
      if (skipped > queue.length) skipped = queue.length;
      let extra = '';
      if (kind === 'accept') { // an accepted label supersedes the suggestions it now covers
        const { dropped } = await reread(s.document).catch(() => ({ dropped: 0 }));
        if (dropped) extra = ` ${plural(dropped, 'other suggestion')} it covers left the queue.`;
      }
      draw();
      say(`${verb} ${words(s)}.${extra} ${describeNext()}`);
    } catch (error) {
      if (error.status === 401) return;
      if (!error.status) { refuse(error.message); return; }
      // Refused: decided elsewhere meanwhile, the document changed or is gone, a label in the way.
      let still = false;
      try {
        const { pending } = await reread(s.document);
        still = pending.has(s.id);
      } catch { /* the words below say enough */ }
      if (still) { // still pending there: it goes to the end, like a skip
        queue.push(queue.shift());
        skipped = Math.min(skipped + 1, queue.length);
      }
      draw();
      const outcome = still ? 'It stays pending and moved to the end of the queue.' : 'It is no longer pending; the queue moved on.';
      refuse(`Not ${kind === 'accept' ? 'accepted' : 'rejected'}: ${error.message} ${outcome}`);
      say(`${verb === 'Accepted' ? 'Accepting' : 'Rejecting'} failed. ${describeNext()}`);
    } finally {
      busy = false;
    }
  }

  function skip() {
    if (busy || !queue.length) return;
    refuse('');
    const s = queue.shift();
    queue.push(s);
    skipped = Math.min(skipped + 1, queue.length);
    draw();
    say(`Skipped ${words(s)}; it stays pending. ${describeNext()}`);
  }

  async function undo() {
    if (busy) return;
    refuse('');
    const last = decisions[decisions.length - 1];
    if (!last) {
      say('Nothing to undo.');
      refuse('Nothing to undo: only decisions made here, since this queue was opened, can be undone here '
        + '(older ones on the document’s page).');
      return;
    }
    busy = true;
    const s = last.suggestion;
    const did = last.kind === 'accept' ? 'acceptance' : 'rejection';
    try {
      // If-Match: only while the document is as this page's own last write left it, so that
      // the API's undo (the document's last decision, whoever made it) takes back this one.
      const { etag, data } = await call('POST', `${path(project, 'documents', s.document)}/:undo`,
        { body: { count: 1 }, ifMatch: mine.get(s.document) });
      decisions.pop();
      mine.set(s.document, etag ?? `"${data.version}"`);
      made -= 1;
      counts[last.kind === 'accept' ? 'accepted' : 'rejected'] -= 1;
      counts.undone += 1;
      const { pending } = await reread(s.document).catch(() => ({ pending: new Set() }));
      const back = pending.has(s.id);
      if (back) queue = [s, ...queue.filter((x) => x.id !== s.id || x.document !== s.document)];
      draw();
      say(`Undone: the ${did} of ${words(s)}. ${back ? 'It is pending again and shown now.'
        : 'A label covers its place now, so it is not pending again.'}`);
      if (!back) refuse(`The ${did} of ${words(s)} was undone, but a label covers its place now, so it is not pending again.`);
    } catch (error) {
      if (error.status === 401) return;
      if (error.status === 412) {
        decisions.pop(); // it can no longer be undone from here
        draw();
        refuse(`Cannot undo the ${did} of ${words(s)}: document “${s.document}” was changed by someone else since, `
          + 'so its last decision may not be yours. Undo it on the document’s page if it still should be.');
      } else {
        refuse(`Undo failed: ${error.message}`);
      }
      say('Undo failed.');
    } finally {
      busy = false;
    }
  }

  acceptBtn.addEventListener('click', () => decide('accept'));
  rejectBtn.addEventListener('click', () => decide('reject'));
  skipBtn.addEventListener('click', skip);
  undoBtn.addEventListener('click', undo);
  order.addEventListener('change', () => {
    filter.order = order.value;
    reload(null, `Ordered ${ORDERS.find(([v]) => v === filter.order)[1].toLowerCase()}.`);
  });
  entity.addEventListener('change', () => { filter.entity = entity.value; reload(); });
  job.addEventListener('change', () => { filter.job = job.value; reload(); });

  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typingIn(event.target)) return;
    const key = event.key.toLowerCase();
    if (key === 'a') decide('accept');
    else if (key === 'x') decide('reject');
    else if (key === 'u') undo();
    else if (key === ' ') {
      if (event.target instanceof Element && event.target.closest('a')) return;
      skip();
    } else return;
    event.preventDefault();
  }, { signal });

  await reload();
}

// A project: its entity types (add one), its documents (filters, text records, paging), and
// adding documents by pasting text or uploading .txt files.

import { all, call, follow, path } from './api.js';
import { field, formatTime, h, plural } from './dom.js';
import { entityNames } from './projects.js';
import { presetQueue } from './queue.js';
import { trainingCard } from './training.js';
import { link, notify, route, setCrumbs, showError } from './ui.js';

const PAGE = 100;
const filters = new Map(); // project -> the filters last used, for coming back to the list

const SHOWS = [
  ['all', 'All'],
  ['labeled', 'Labeled'],
  ['unlabeled', 'Unlabeled'],
  ['pending', 'Auto-labels pending'],
];

// Opens the project's document list on a filter next time (e.g. 'pending', from the wizard).
export function presetFilter(project, show) {
  filters.set(project, { show, entity: '', dataset: '' });
}

function query(filter) {
  const q = { maxpagesize: PAGE };
  if (filter.show === 'labeled') q.labeled = true;
  if (filter.show === 'unlabeled') q.labeled = false;
  if (filter.show === 'pending') q.autolabeled = true;
  if (filter.entity) q.entity = filter.entity;
  if (filter.dataset) q.dataset = filter.dataset;
  return q;
}

// A document name from a file's name: its extension dropped, the characters names may not
// hold (/ \ ? # % :) and control characters replaced.
export function nameFromFile(fileName) {
  const base = fileName.replace(/\.txt$/i, '').normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[/\\?#%:\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '_').trim();
  return [...(base || 'document')].slice(0, 128).join('').trim();
}

function entitySection(project, entities, reload) {
  const input = h('input', { name: 'entityName', autocomplete: 'off', maxlength: '50', required: true });
  const status = h('p', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'inline-form' }, field('New entity type', input), h('button', { type: 'submit', text: 'Add' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.textContent = '';
    const names = entityNames(input.value);
    if (!names.length) return;
    try {
      for (const name of names) await call('PUT', path(project, 'entities', name));
      notify(`Entity type${names.length > 1 ? 's' : ''} ${names.join(', ')} added.`);
      await reload();
      document.querySelector('#entity-section input[name=entityName]')?.focus();
    } catch (error) {
      status.textContent = error.message;
    }
  });
  const chips = entities.length
    ? h('ul', { class: 'chips', 'aria-label': 'Entity types' }, entities.map((e, i) => h('li', { class: `chip l${i % 12}` },
      h('span', { class: 'swatch', 'aria-hidden': 'true' }),
      h('span', { text: e.category }),
      h('span', { class: 'count', text: ` ${plural(e.labelCount, 'label')}` }))))
    : h('p', { text: 'No entity types yet: add the kinds of things to label (Person, Org, …).' });
  return h('section', { class: 'card', id: 'entity-section', 'aria-labelledby': 'entities-title' },
    h('h2', { id: 'entities-title', text: 'Entity types' }), chips, form, status);
}

function addDocumentForm(project, reload) {
  const name = h('input', { name: 'documentName', required: true, maxlength: '128', autocomplete: 'off', spellcheck: 'false' });
  const dataset = h('select', { name: 'dataset' }, h('option', { value: 'Train', text: 'Train' }),
    h('option', { value: 'Test', text: 'Test' }));
  const text = h('textarea', { name: 'text', rows: '8', required: true, spellcheck: 'false' });
  const note = h('p', { class: 'hint', 'aria-live': 'polite' });
  const status = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Add document' });

  // A textarea turns CRLF into LF. Pasted text is kept exactly as pasted (CRLF and all) as
  // long as it is the whole content and unedited, so that offsets match the original.
  let pasted = null;
  const flat = (s) => s.replace(/\r\n?/g, '\n');
  const explain = () => {
    note.textContent = pasted && pasted.includes('\r') ? 'The pasted line breaks (CRLF) are kept as pasted.' : '';
  };
  text.addEventListener('paste', (event) => {
    const raw = event.clipboardData ? event.clipboardData.getData('text/plain') : null;
    if (raw == null || !raw.includes('\r')) { pasted = null; explain(); return; }
    event.preventDefault();
    const whole = text.selectionStart === 0 && text.selectionEnd === text.value.length;
    text.setRangeText(flat(raw), text.selectionStart, text.selectionEnd, 'end');
    pasted = whole ? raw : null;
    explain();
  });
  text.addEventListener('input', () => {
    if (pasted !== null && flat(pasted) !== text.value) pasted = null;
    explain();
  });

  const form = h('form', { class: 'card', 'aria-labelledby': 'add-doc-title' },
    h('h2', { id: 'add-doc-title', text: 'Add a document' }),
    field('Name', name), field('Dataset', dataset), field('Text', text, 'Paste or type the text; up to 128,000 characters.'),
    note, status, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.textContent = '';
    const body = pasted !== null && flat(pasted) === text.value ? pasted : text.value;
    if (!name.value.trim()) { status.textContent = 'Give the document a name.'; name.focus(); return; }
    if (!body) { status.textContent = 'The text is empty.'; text.focus(); return; }
    submit.disabled = true;
    try {
      const docName = name.value.trim();
      const { status: code } = await call('PUT', path(project, 'documents', docName), { body: { text: body, dataset: dataset.value } });
      notify(code === 201 ? `Document “${docName}” added.` : `Document “${docName}” already holds that text; nothing changed.`);
      name.value = '';
      text.value = '';
      pasted = null;
      explain();
      await reload();
    } catch (error) {
      status.textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function uploadForm(project, reload) {
  const files = h('input', { type: 'file', name: 'files', accept: '.txt,text/plain', multiple: true });
  const dataset = h('select', { name: 'dataset' }, h('option', { value: 'Train', text: 'Train' }),
    h('option', { value: 'Test', text: 'Test' }));
  const status = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', text: 'Upload' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title', text: 'Upload text files' }),
    field('Files (.txt, UTF-8)', files, 'Each file becomes a document named after it; all are added or none.'),
    field('Dataset', dataset), status, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.textContent = '';
    if (!files.files.length) { status.textContent = 'Choose one or more .txt files.'; files.focus(); return; }
    submit.disabled = true;
    try {
      const documents = [];
      for (const file of files.files) {
        documents.push({ name: nameFromFile(file.name), text: await file.text(), dataset: dataset.value });
      }
      const { data } = await call('POST', `${path(project, 'documents')}/:batch`, { body: { documents } });
      const created = data.value.filter((d) => d.status === 'created').length;
      notify(`${plural(created, 'document')} added${created < documents.length
        ? `, ${documents.length - created} unchanged` : ''}.`);
      files.value = '';
      await reload();
    } catch (error) {
      status.textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function filterForm(project, entities, filter, onChange) {
  const name = `show-${project}`;
  const radios = SHOWS.map(([value, text]) => {
    const input = h('input', { type: 'radio', name, value, checked: filter.show === value,
      onchange: () => { filter.show = value; onChange(); } });
    return h('label', { class: 'radio' }, input, ` ${text}`);
  });
  const entity = h('select', { name: 'entityFilter', onchange: () => { filter.entity = entity.value; onChange(); } },
    h('option', { value: '', text: 'Any' }), entities.map((e) => h('option', { value: e.category, text: e.category,
      selected: filter.entity === e.category })));
  entity.value = filter.entity;
  const dataset = h('select', { name: 'datasetFilter', onchange: () => { filter.dataset = dataset.value; onChange(); } },
    h('option', { value: '', text: 'Any' }), h('option', { value: 'Train', text: 'Train' }),
    h('option', { value: 'Test', text: 'Test' }));
  dataset.value = filter.dataset;
  return h('div', { class: 'filters' },
    h('fieldset', { class: 'show' }, h('legend', { text: 'Show' }), radios),
    field('Entity', entity), field('Dataset', dataset));
}

function documentRows(project, docs) {
  return docs.map((d) => h('tr', {},
    h('td', {}, link(route('p', project, 'd', d.name), d.name, { class: 'doc-link' })),
    h('td', { text: d.dataset }),
    h('td', { class: 'num', text: d.characters.toLocaleString() }),
    h('td', { class: 'num', text: d.textRecords.toLocaleString() }),
    h('td', { class: 'num', text: d.labelCount.toLocaleString() }),
    h('td', { text: formatTime(d.lastModifiedDateTime) })));
}

export async function showProject(main, project) {
  setCrumbs([{ route: '/', text: 'Projects' }, { route: route('p', project), text: project }]);
  const filter = filters.get(project) ?? { show: 'all', entity: '', dataset: '' };
  filters.set(project, filter);
  const [{ data: info }, entities] = await Promise.all([call('GET', path(project)), all(path(project, 'entities'))]);

  const listArea = h('div', { class: 'doc-list', 'aria-live': 'polite', 'aria-busy': 'false' });
  let loadSeq = 0;
  const loadDocuments = async () => {
    const seq = ++loadSeq;
    listArea.setAttribute('aria-busy', 'true');
    try {
      const { data } = await call('GET', path(project, 'documents'), { query: query(filter) });
      if (seq !== loadSeq) return;
      const docs = [...data.value];
      const body = h('tbody', {}, documentRows(project, docs));
      const summary = h('p', { class: 'summary' });
      const more = h('button', { type: 'button', text: 'Show more', hidden: !data.nextLink });
      let next = data.nextLink;
      const sum = () => {
        const records = docs.reduce((n, d) => n + d.textRecords, 0);
        summary.textContent = `${plural(docs.length, 'document')} shown, ${plural(records, 'text record')}.`;
      };
      more.addEventListener('click', async () => {
        more.disabled = true;
        try {
          const { data: page } = await follow(next);
          docs.push(...page.value);
          body.append(...documentRows(project, page.value));
          next = page.nextLink;
          more.hidden = !next;
          sum();
        } catch (error) {
          showError(error, 'Loading more documents failed');
        } finally {
          more.disabled = false;
        }
      });
      sum();
      const queueLink = filter.show === 'pending' && docs.length
        ? h('p', { class: 'queue-hint' }, link(route('p', project, 'queue'), 'Review these suggestions one at a time',
          { id: 'pending-queue-link', onclick: () => presetQueue(project, filter.entity) }),
        ' (the review queue: keys A, X, U and Space).')
        : null;
      listArea.replaceChildren(summary, queueLink, docs.length
        ? h('table', { class: 'list documents', 'aria-label': 'Documents' },
          h('thead', {}, h('tr', {}, ['Document', 'Dataset', 'Characters', 'Text records', 'Labels', 'Last modified']
            .map((t) => h('th', { scope: 'col', text: t })))), body)
        : h('p', { text: 'No documents match.' }), more);
    } catch (error) {
      if (seq === loadSeq) {
        listArea.replaceChildren(h('p', { text: 'The documents could not be listed.' }));
        showError(error, 'Listing the documents failed');
      }
    } finally {
      if (seq === loadSeq) listArea.setAttribute('aria-busy', 'false');
    }
  };

  const entityArea = h('div');
  const reloadEntities = async () => {
    const fresh = await all(path(project, 'entities'));
    entityArea.replaceChildren(entitySection(project, fresh, reloadEntities));
  };
  entityArea.replaceChildren(entitySection(project, entities, reloadEntities));

  main.replaceChildren(
    h('div', { class: 'screen-head' }, h('h1', { text: project }),
      h('p', { class: 'meta', text: `Language ${info.language}; overlapping labels ${info.overlapPolicy === 'allow'
        ? 'allowed' : 'not allowed'}.${info.description ? ` ${info.description}` : ''}` }),
      h('p', { class: 'meta screen-links' }, link(route('p', project, 'models'), 'Models', { id: 'models-link' }), ' · ',
        link(route('p', project, 'autolabel'), 'Auto-label documents', { id: 'autolabel-link' }), ' · ',
        link(route('p', project, 'queue'), 'Review queue', { id: 'queue-link' }))),
    h('div', { class: 'project-grid' },
      h('section', { class: 'card documents-card', 'aria-labelledby': 'documents-title' },
        h('h2', { id: 'documents-title', text: 'Documents' }),
        filterForm(project, entities, filter, loadDocuments), listArea),
      h('div', { class: 'side' }, entityArea, trainingCard(project), addDocumentForm(project, loadDocuments), uploadForm(project, loadDocuments))));
  await loadDocuments();
}

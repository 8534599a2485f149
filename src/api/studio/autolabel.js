// The auto-labeling wizard, as the steps of Azure's auto-labeling guide: choose a trained
// model (its scores shown), choose entities, choose documents (their text records summed as
// the selection changes), review (model, documents, text records, entities, the quota left
// this month) and start; then the job's progress and its result. Refusals in words.

import { all, call, path } from './api.js';
import { presetFilter } from './documents.js';
import { h, plural, uid } from './dom.js';
import { jobIdOf, percent, progressBar, sleep } from './training.js';
import { link, route, setCrumbs, showError } from './ui.js';

const STEPS = ['Model', 'Entities', 'Documents', 'Review', 'Run'];
const POLL_MS = 500;

function newKey() {
  if (window.crypto?.randomUUID) return window.crypto.randomUUID();
  return `studio-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

export async function showWizard(main, project) {
  setCrumbs([{ route: '/', text: 'Projects' }, { route: route('p', project), text: project },
    { route: route('p', project, 'autolabel'), text: 'Auto-label' }]);
  const models = await all(path(project, 'models'));
  const summaries = await Promise.all(models.map((m) => call('GET',
    `${path(project, 'models', m.label)}/evaluation/summary-result`).then(({ data }) => data, () => null)));
  const state = { step: 0, model: models[0]?.label ?? null, entities: null, known: [], documents: null,
    selected: new Set(), key: newKey(), job: null };
  const stepper = h('ol', { class: 'stepper', 'aria-label': 'Steps' });
  const body = h('div', { class: 'wizard-body' });
  const problem = h('p', { class: 'form-error wizard-error', role: 'alert' });
  main.replaceChildren(
    h('div', { class: 'screen-head' }, h('h1', { text: 'Auto-label documents' }),
      h('p', { class: 'meta', text: 'A trained model suggests labels on the documents you choose; you then accept or '
        + 'reject each suggestion. Each document costs its text records (one per 1,000 characters) from this month’s quota.' })),
    h('section', { class: 'card wizard', 'aria-label': 'Auto-labeling wizard' }, stepper, problem, body));

  const drawStepper = () => {
    stepper.replaceChildren(...STEPS.map((name, i) => h('li', { class: i === state.step ? 'current' : i < state.step ? 'done' : '',
      'aria-current': i === state.step ? 'step' : undefined, text: `${i + 1}. ${name}` })));
  };
  const nav = (back, next, nextText = 'Next') => {
    const buttons = [];
    if (back) buttons.push(h('button', { type: 'button', class: 'back', text: 'Back', onclick: back }));
    if (next) buttons.push(h('button', { type: 'button', class: 'primary next', id: 'wizard-next', text: nextText, onclick: next }));
    return h('div', { class: 'actions wizard-nav' }, buttons);
  };
  const go = async (step) => {
    problem.textContent = '';
    state.step = step;
    drawStepper();
    body.setAttribute('aria-busy', 'true');
    body.replaceChildren(h('p', { class: 'loading', role: 'status', text: 'Loading…' }));
    try {
      await [chooseModel, chooseEntities, chooseDocuments, review, run][step]();
    } catch (error) {
      if (error.status === 401) return;
      body.replaceChildren(nav(step > 0 && (() => go(step - 1)), null));
      problem.textContent = error.message;
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
    const heading = body.querySelector('h2');
    if (heading) { heading.setAttribute('tabindex', '-1'); heading.focus({ preventScroll: true }); }
  };

  // (a) the model, with its scores.
  async function chooseModel() {
    if (!models.length) {
      body.replaceChildren(h('h2', { text: 'Choose a model' }),
        h('p', { class: 'refusal', role: 'alert', text: `Project “${project}” has no trained model yet, so nothing can `
          + 'suggest labels. Train one on the project page first.' }),
        h('p', {}, link(route('p', project), 'Go to the project page to train a model')));
      return;
    }
    const name = uid('model');
    const rows = models.map((m, i) => {
      const e = summaries[i]?.customEntityRecognitionEvaluation;
      const radio = h('input', { type: 'radio', name, value: m.label, checked: m.label === state.model,
        'aria-label': `Model ${m.label}`, onchange: () => { state.model = m.label; state.entities = null; } });
      return h('tr', {}, h('td', {}, radio), h('th', { scope: 'row', text: m.label }),
        h('td', { class: 'num', text: percent(e?.microPrecision) }), h('td', { class: 'num', text: percent(e?.microRecall) }),
        h('td', { class: 'num', text: percent(e?.microF1) }),
        h('td', {}, link(route('p', project, 'models', m.label), 'evaluation')));
    });
    body.replaceChildren(h('h2', { text: 'Choose a model' }),
      h('table', { class: 'list scores wizard-models' },
        h('thead', {}, h('tr', {}, ['', 'Model', 'Precision', 'Recall', 'F1', ''].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, rows)),
      nav(null, () => go(1)));
  }

  // (b) the entities, all selected by default, each with its label count, precision and recall.
  async function chooseEntities() {
    const { data } = await call('POST', `${path(project, 'autolabel')}/:preview`,
      { body: { modelLabel: state.model, filter: {} } });
    state.known = data.entities;
    if (!state.entities) state.entities = new Set(data.entities.map((e) => e.category));
    const count = h('p', { class: 'summary', role: 'status' });
    const sum = () => { count.textContent = `${plural(state.entities.size, 'entity', 'entities')} of ${data.entities.length} selected.`; };
    const rows = data.entities.map((e) => {
      const box = h('input', { type: 'checkbox', checked: state.entities.has(e.category), 'aria-label': `Entity ${e.category}`,
        dataset: { entity: e.category },
        onchange: (event) => { if (event.target.checked) state.entities.add(e.category); else state.entities.delete(e.category); sum(); } });
      return h('tr', {}, h('td', {}, box), h('th', { scope: 'row', text: e.category }),
        h('td', { class: 'num', text: e.labels.toLocaleString() }), h('td', { class: 'num', text: percent(e.precision) }),
        h('td', { class: 'num', text: percent(e.recall) }));
    });
    sum();
    body.replaceChildren(h('h2', { text: `Choose entities for model ${state.model}` }),
      h('table', { class: 'list scores wizard-entities' },
        h('thead', {}, h('tr', {}, ['', 'Entity', 'Labels', 'Precision', 'Recall'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, rows)),
      count,
      nav(() => go(0), () => {
        if (!state.entities.size) { problem.textContent = 'Choose at least one entity.'; return; }
        go(2);
      }));
  }

  // (c) the documents: those without labels selected by default, the total shown as it changes.
  async function chooseDocuments() {
    if (!state.documents) {
      const [docs, unlabeled] = await Promise.all([all(path(project, 'documents')),
        all(path(project, 'documents'), { labeled: false })]);
      state.documents = docs;
      state.selected = new Set(unlabeled.map((d) => d.name));
    }
    const docs = state.documents;
    const total = h('p', { class: 'summary selection-total', role: 'status', 'aria-live': 'polite' });
    const boxes = [];
    const sum = () => {
      const chosen = docs.filter((d) => state.selected.has(d.name));
      const records = chosen.reduce((n, d) => n + d.textRecords, 0);
      total.textContent = `${plural(chosen.length, 'document')} selected, ${plural(records, 'text record')}.`;
      total.dataset.records = String(records);
    };
    const rows = docs.map((d) => {
      const box = h('input', { type: 'checkbox', checked: state.selected.has(d.name), 'aria-label': `Document ${d.name}`,
        dataset: { document: d.name },
        onchange: (event) => { if (event.target.checked) state.selected.add(d.name); else state.selected.delete(d.name); sum(); } });
      boxes.push([box, d]);
      return h('tr', {}, h('td', {}, box), h('th', { scope: 'row', text: d.name }), h('td', { text: d.dataset }),
        h('td', { class: 'num', text: d.characters.toLocaleString() }), h('td', { class: 'num', text: d.textRecords.toLocaleString() }),
        h('td', { class: 'num', text: d.labelCount.toLocaleString() }));
    });
    const pick = (which) => () => {
      for (const [box, d] of boxes) {
        box.checked = which(d);
        if (box.checked) state.selected.add(d.name); else state.selected.delete(d.name);
      }
      sum();
    };
    sum();
    body.replaceChildren(h('h2', { text: 'Choose documents' }),
      h('div', { class: 'toolbar' }, h('span', { text: 'Select:' }),
        h('button', { type: 'button', text: 'Unlabeled', onclick: pick((d) => d.labelCount === 0) }),
        h('button', { type: 'button', text: 'All', onclick: pick(() => true) }),
        h('button', { type: 'button', text: 'None', onclick: pick(() => false) })),
      total,
      docs.length ? h('div', { class: 'table-scroll wizard-docs-wrap' }, h('table', { class: 'list wizard-docs' },
        h('thead', {}, h('tr', {}, ['', 'Document', 'Dataset', 'Characters', 'Text records', 'Labels']
          .map((t) => h('th', { scope: 'col', text: t })))), h('tbody', {}, rows)))
        : h('p', { text: 'The project has no documents: add some on the project page.' }),
      nav(() => go(1), () => {
        if (!state.selected.size) { problem.textContent = 'Choose at least one document.'; return; }
        go(3);
      }));
  }

  const request = () => ({ modelLabel: state.model, entities: [...state.entities],
    documents: state.documents.filter((d) => state.selected.has(d.name)).map((d) => d.name) });

  // (d) the review before the start: what it covers, what it costs, what the quota leaves.
  async function review() {
    const [{ data: preview }, { data: quota }] = await Promise.all([
      call('POST', `${path(project, 'autolabel')}/:preview`, { body: request() }),
      call('GET', '/../quota')]);
    const left = quota.remaining;
    const rows = [
      ['Model', state.model],
      ['Documents', preview.documentCount.toLocaleString()],
      ['Text records', preview.textRecords.toLocaleString()],
      ['Entities', preview.entities.map((e) => e.category).join(', ')],
      ['Quota left this month', `${left.toLocaleString()} of ${quota.limit.toLocaleString()} text records (${quota.month}, UTC)`],
      ['Left after this job', preview.fits ? `${(left - preview.textRecords).toLocaleString()} text records` : '–'],
    ];
    const start = h('button', { type: 'button', class: 'primary', id: 'start-autolabel', text: 'Start auto-labeling',
      disabled: !preview.fits });
    const parts = [h('h2', { text: 'Review and start' }),
      h('dl', { class: 'figures review-figures' }, rows.flatMap(([k, v]) => [h('dt', { text: k }),
        h('dd', { text: v, dataset: { item: k } })]))];
    if (!preview.fits) {
      parts.push(h('p', { class: 'refusal', role: 'alert', text: `This job needs ${plural(preview.textRecords, 'text record')}, `
        + `but only ${plural(left, 'text record')} of this month’s ${quota.limit.toLocaleString()} remain. `
        + 'Choose fewer documents, or wait for next month.' }));
    }
    start.addEventListener('click', async () => {
      start.disabled = true;
      problem.textContent = '';
      try {
        const { headers } = await call('POST', path(project, 'autolabel', 'jobs'),
          { body: request(), headers: { 'Idempotency-Key': state.key } });
        state.job = jobIdOf(headers.get('Operation-Location'));
        go(4);
      } catch (error) {
        problem.textContent = `The job was not started: ${error.message}`;
        start.disabled = false;
      }
    });
    const buttons = nav(() => go(2), null);
    buttons.append(start);
    parts.push(buttons);
    body.replaceChildren(...parts);
  }

  // (e) the job: its progress, then its result and the way to review it.
  async function run() {
    const bar = progressBar('Auto-labeling progress');
    const words = h('p', { class: 'job-words', id: 'autolabel-status', role: 'status' });
    const cancel = h('button', { type: 'button', id: 'cancel-autolabel', text: 'Cancel' });
    const outcome = h('div', { class: 'job-result' });
    const area = h('div', { class: 'job', id: 'autolabel-job' }, words, bar, h('div', { class: 'actions' }, cancel), outcome);
    body.replaceChildren(h('h2', { text: 'Auto-labeling' }), area);
    const id = state.job;
    cancel.addEventListener('click', async () => {
      cancel.disabled = true;
      try {
        await call('POST', `${path(project, 'autolabel', 'jobs', id)}/:cancel`);
      } catch (error) {
        showError(error, 'Cancelling the job failed');
        cancel.disabled = false;
      }
    });
    (async () => {
      try {
        while (area.isConnected) {
          const { data: job } = await call('GET', path(project, 'autolabel', 'jobs', id));
          const r = job.result;
          bar.value = r.percentComplete;
          area.dataset.status = job.status;
          if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled') {
            cancel.hidden = true;
            const said = {
              succeeded: `Done: ${plural(r.suggestions, 'suggestion')} on ${plural(r.documentsDone, 'document')}.`,
              failed: `The job failed: ${(job.errors ?? []).map((e) => e.message).join(' ') || 'no reason was given.'}`,
              cancelled: `The job was cancelled after ${plural(r.documentsDone, 'document')} (${plural(r.suggestions, 'suggestion')}).`,
            }[job.status];
            words.textContent = said;
            const open = link(route('p', project), 'Review the documents with auto-labels pending', { id: 'review-pending' });
            open.addEventListener('click', () => presetFilter(project, 'pending'));
            outcome.replaceChildren(
              h('p', { text: `${plural(r.textRecordsCharged, 'text record')} charged, ${r.textRecordsRefunded.toLocaleString()} refunded.` }),
              r.suggestions ? h('p', {}, open) : h('p', { text: 'The model suggested nothing on these documents.' }));
            break;
          }
          words.textContent = `${job.status === 'notStarted' ? 'Waiting for a worker' : 'Running'}: `
            + `${r.documentsDone} of ${plural(r.documents, 'document')} done, ${plural(r.suggestions, 'suggestion')} so far.`;
          await sleep(POLL_MS);
        }
      } catch (error) {
        if (area.isConnected) showError(error, 'Following the job failed');
      }
    })();
  }

  await go(0);
}

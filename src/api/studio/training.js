// Training: a card on the project page to start a training job (model label, training config
// version, evaluation split), its progress while it runs, cancel, and the outcome in words;
// the models page (trained models and their scores) and a model's evaluation: per-entity
// precision, recall and F1, the confusion matrix, and the test documents it got wrong.

import { all, call, path, UTF16 } from './api.js';
import { excerpt, field, formatTime, h, plural } from './dom.js';
import { link, notify, route, setCrumbs, showError } from './ui.js';

const POLL_MS = 700;
const ENDED = ['succeeded', 'failed', 'cancelled'];

export const percent = (value) => (typeof value === 'number' ? `${(value * 100).toFixed(1)}%` : '–');
export const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// The job id at the end of an Operation-Location.
export function jobIdOf(operationLocation) {
  const url = new URL(operationLocation, window.location.origin);
  return decodeURIComponent(url.pathname.split('/').pop());
}

// A job's progress in one number: training is its first 90%, evaluation the rest.
function overall(job) {
  const r = job.result ?? {};
  const train = r.trainingStatus?.percentComplete ?? 0;
  const evaluate = r.evaluationStatus?.percentComplete ?? 0;
  if (job.status === 'succeeded') return 100;
  return Math.min(100, Math.round(train * 0.9 + evaluate * 0.1));
}

function reasons(job) {
  const errors = (job.errors ?? []).map((e) => e.message).filter(Boolean);
  return errors.length ? errors.join(' ') : 'no reason was given.';
}

// What a job's state is, in words.
function jobWords(job) {
  const label = `“${job.result?.modelLabel ?? ''}”`;
  switch (job.status) {
    case 'notStarted': return `Training of ${label} is waiting for a worker.`;
    case 'running': {
      const r = job.result ?? {};
      const stage = r.trainingStatus?.status === 'succeeded'
        ? `evaluating, ${r.evaluationStatus?.percentComplete ?? 0}%`
        : `training, ${r.trainingStatus?.percentComplete ?? 0}%`;
      return `Training ${label}: ${stage}.`;
    }
    case 'cancelling': return `Training of ${label} is being cancelled…`;
    case 'succeeded': return `Model ${label} trained.`;
    case 'failed': return `Training of ${label} failed: ${reasons(job)}`;
    case 'cancelled': return `Training of ${label} was cancelled.`;
    default: return `Training of ${label}: ${job.status}.`;
  }
}

export function progressBar(labelText) {
  return h('progress', { max: '100', value: '0', 'aria-label': labelText });
}

// The training card of the project page.
export function trainingCard(project) {
  const label = h('input', { name: 'modelLabel', required: true, maxlength: '50', autocomplete: 'off', spellcheck: 'false',
    value: 'model1' });
  const version = h('select', { name: 'trainingConfigVersion' }, h('option', { value: 'latest', text: 'latest' }));
  const kindName = `kind-${project}`;
  const percentage = h('input', { type: 'radio', name: kindName, value: 'percentage', checked: true });
  const manual = h('input', { type: 'radio', name: kindName, value: 'manual' });
  const testShare = h('input', { type: 'number', name: 'testingSplitPercentage', min: '1', max: '99', value: '20' });
  const testField = field('Test share (%)', testShare, 'Of the labeled documents, the share kept apart to test the model.');
  const syncKind = () => { testField.hidden = manual.checked; };
  percentage.addEventListener('change', syncKind);
  manual.addEventListener('change', syncKind);
  const status = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Start training' });

  const bar = progressBar('Training progress');
  const words = h('p', { class: 'job-words', id: 'training-status', role: 'status' });
  const cancel = h('button', { type: 'button', id: 'cancel-training', text: 'Cancel training' });
  const outcome = h('p', { class: 'job-links' });
  const running = h('div', { class: 'job', id: 'training-job', hidden: true }, words, bar, h('div', { class: 'actions' }, cancel),
    outcome);
  let jobId = null;

  const watch = async (id) => {
    jobId = id;
    running.hidden = false;
    cancel.hidden = false;
    cancel.disabled = false;
    outcome.replaceChildren();
    submit.disabled = true;
    bar.removeAttribute('data-done');
    try {
      while (running.isConnected && jobId === id) {
        const { data: job } = await call('GET', path(project, 'train', 'jobs', id));
        if (jobId !== id) return;
        bar.value = overall(job);
        running.dataset.status = job.status;
        words.textContent = jobWords(job);
        if (ENDED.includes(job.status)) {
          cancel.hidden = true;
          bar.dataset.done = job.status;
          if (job.status === 'succeeded') {
            outcome.replaceChildren(link(route('p', project, 'models', job.result.modelLabel), `See the evaluation of “${job.result.modelLabel}”`,
              { class: 'model-link' }), ' · ', link(route('p', project, 'autolabel'), 'Auto-label documents with it'));
          }
          break;
        }
        await sleep(POLL_MS);
      }
    } catch (error) {
      if (running.isConnected) showError(error, 'Following the training failed');
    } finally {
      if (jobId === id) submit.disabled = false;
    }
  };

  cancel.addEventListener('click', async () => {
    if (!jobId) return;
    cancel.disabled = true;
    try {
      await call('POST', `${path(project, 'train', 'jobs', jobId)}/:cancel`);
      words.textContent = 'Cancelling the training…';
    } catch (error) {
      showError(error, 'Cancelling the training failed');
      cancel.disabled = false;
    }
  });

  const form = h('form', { 'aria-labelledby': 'training-title' },
    field('Model label', label, 'Training again under the same label replaces that model.'),
    field('Training config version', version, '“latest” is the default recipe; the others are listed by the server.'),
    h('fieldset', { class: 'show' }, h('legend', { text: 'Evaluation' }),
      h('label', { class: 'radio' }, percentage, ' Split by percentage'),
      h('label', { class: 'radio' }, manual, ' Manual (the Train and Test sets)')),
    testField, status, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.textContent = '';
    const modelLabel = label.value.trim();
    if (!modelLabel) { status.textContent = 'Give the model a label.'; label.focus(); return; }
    const evaluationOptions = manual.checked ? { kind: 'manual' } : (() => {
      const test = Number(testShare.value);
      return { kind: 'percentage', trainingSplitPercentage: 100 - test, testingSplitPercentage: test };
    })();
    if (!manual.checked) {
      const test = evaluationOptions.testingSplitPercentage;
      if (!Number.isInteger(test) || test < 1 || test > 99) {
        status.textContent = 'The test share is a whole number from 1 to 99.';
        testShare.focus();
        return;
      }
    }
    submit.disabled = true;
    try {
      const { headers } = await call('POST', `${path(project)}/:train`,
        { body: { modelLabel, trainingConfigVersion: version.value, evaluationOptions } });
      notify(`Training of “${modelLabel}” started.`);
      watch(jobIdOf(headers.get('Operation-Location')));
    } catch (error) {
      status.textContent = error.message;
      submit.disabled = false;
    }
  });

  const card = h('section', { class: 'card', id: 'training-section', 'aria-labelledby': 'training-title' },
    h('h2', { id: 'training-title', text: 'Training' }), form, running,
    h('p', {}, link(route('p', project, 'models'), 'Trained models and their scores')));

  // The versions the server offers; and a job still running, shown as it goes on.
  (async () => {
    try {
      const versions = await all('/global/training-config-versions');
      version.replaceChildren(...versions.map((v) => h('option', { value: v.trainingConfigVersion,
        text: v.trainingConfigVersion })));
      version.value = 'latest';
      const { data } = await call('GET', path(project, 'train', 'jobs'), { query: { top: 1 } });
      const last = data.value[0];
      if (last && !ENDED.includes(last.status) && card.isConnected) watch(last.jobId);
    } catch (error) {
      if (card.isConnected && error.status !== 401) showError(error, 'Reading the training settings failed');
    }
  })();
  return card;
}

// -- models -------------------------------------------------------------------------------

async function summaryOf(project, label) {
  const { data } = await call('GET', `${path(project, 'models', label)}/evaluation/summary-result`);
  return data;
}

export async function showModels(main, project) {
  setCrumbs([{ route: '/', text: 'Projects' }, { route: route('p', project), text: project },
    { route: route('p', project, 'models'), text: 'Models' }]);
  const models = await all(path(project, 'models'));
  const summaries = await Promise.all(models.map((m) => summaryOf(project, m.label).catch(() => null)));
  const rows = models.map((m, i) => {
    const e = summaries[i]?.customEntityRecognitionEvaluation;
    return h('tr', {},
      h('td', {}, link(route('p', project, 'models', m.label), m.label, { class: 'model-link' })),
      h('td', { text: formatTime(m.lastTrainedDateTime) }),
      h('td', { text: m.modelTrainingConfigVersion }),
      h('td', { class: 'num', text: percent(e?.microPrecision) }),
      h('td', { class: 'num', text: percent(e?.microRecall) }),
      h('td', { class: 'num', text: percent(e?.microF1) }));
  });
  main.replaceChildren(
    h('div', { class: 'screen-head' }, h('h1', { text: `Models of ${project}` }),
      h('p', { class: 'meta' }, link(route('p', project), 'Back to the documents and training'), ' · ',
        link(route('p', project, 'autolabel'), 'Auto-label documents'))),
    h('section', { class: 'card', 'aria-label': 'Trained models' }, models.length
      ? h('table', { class: 'list scores models' },
        h('thead', {}, h('tr', {}, ['Model', 'Trained', 'Config version', 'Precision', 'Recall', 'F1']
          .map((t) => h('th', { scope: 'col', text: t })))), h('tbody', {}, rows))
      : h('p', { text: 'No trained model yet: start a training on the project page.' })));
}

function scoreTable(entities) {
  const names = Object.keys(entities).sort();
  return h('table', { class: 'list scores entity-scores' },
    h('caption', { text: 'Per entity, on the test documents' }),
    h('thead', {}, h('tr', {}, ['Entity', 'Precision', 'Recall', 'F1', 'True positives', 'False positives',
      'False negatives'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, names.map((name) => {
      const s = entities[name];
      return h('tr', { dataset: { entity: name } }, h('th', { scope: 'row', text: name }),
        h('td', { class: 'num', text: percent(s.precision) }), h('td', { class: 'num', text: percent(s.recall) }),
        h('td', { class: 'num', text: percent(s.f1) }), h('td', { class: 'num', text: String(s.truePositiveCount) }),
        h('td', { class: 'num', text: String(s.falsePositiveCount) }),
        h('td', { class: 'num', text: String(s.falseNegativeCount) }));
    })));
}

// The matrix's name for "no entity" (a label the model missed, or a span it made up).
const entityName = (name) => (name === '$none' ? '(none)' : name);

function confusionTable(matrix) {
  const expected = Object.keys(matrix).sort();
  const predicted = [...new Set(expected.concat(...expected.map((e) => Object.keys(matrix[e]))))].sort();
  if (!expected.length) return h('p', { text: 'No confusion matrix: the test documents held no labels.' });
  return h('div', { class: 'table-scroll' }, h('table', { class: 'list confusion' },
    h('caption', { text: 'Rows: the labels expected; columns: what the model predicted (counts); (none): no entity' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Expected \\ predicted' }),
      predicted.map((p) => h('th', { scope: 'col', text: entityName(p) })))),
    h('tbody', {}, expected.map((e) => h('tr', {}, h('th', { scope: 'row', text: entityName(e) }),
      predicted.map((p) => {
        const cell = matrix[e][p];
        const n = cell ? cell.rawValue : 0;
        return h('td', { class: `num${n && e === p ? ' hit' : n ? ' miss' : ''}`, text: String(n),
          title: cell ? `${cell.normalizedValue.toFixed(1)}% of ${entityName(e)}` : undefined });
      }))))));
}

const key = (s) => `${s.category}:${s.offset}:${s.length}`;

// The test documents where what the model predicted differs from the labels.
async function errorList(project, label) {
  const results = await all(`${path(project, 'models', label)}/evaluation/result`, { stringIndexType: UTF16 });
  const wrong = [];
  for (const doc of results) {
    const regions = doc.customEntityRecognitionResult?.entities ?? [];
    const expected = regions.flatMap((r) => r.expectedEntities);
    const predicted = regions.flatMap((r) => r.predictedEntities);
    const found = new Set(predicted.map(key));
    const wanted = new Set(expected.map(key));
    const missed = expected.filter((s) => !found.has(key(s)));
    const extra = predicted.filter((s) => !wanted.has(key(s)));
    if (missed.length || extra.length) wrong.push({ name: doc.location, missed, extra });
  }
  const texts = await Promise.all(wrong.slice(0, 50).map((w) => call('GET', path(project, 'documents', w.name),
    { query: { stringIndexType: UTF16 } }).then(({ data }) => data.text, () => null)));
  const said = (text, s) => (text == null ? `${s.offset}–${s.offset + s.length}`
    : `“${excerpt(text.slice(s.offset, s.offset + s.length), 40)}”`);
  if (!results.length) return h('p', { text: 'The evaluation holds no test documents.' });
  if (!wrong.length) return h('p', { text: `The model got all ${plural(results.length, 'test document')} right.` });
  return h('div', {}, h('p', { class: 'summary', text: `${plural(wrong.length, 'test document')} of ${results.length} with errors.` }),
    h('ul', { class: 'doc-errors' }, wrong.map((w, i) => h('li', {},
      link(route('p', project, 'd', w.name), w.name),
      h('ul', {}, w.missed.map((s) => h('li', { text: `missed ${s.category} ${said(texts[i], s)}` })),
        w.extra.map((s) => h('li', { text: `predicted ${s.category} ${said(texts[i], s)}${
          typeof s.confidenceScore === 'number' ? ` (confidence ${s.confidenceScore.toFixed(2)})` : ''}` })))))));
}

export async function showModel(main, project, label) {
  setCrumbs([{ route: '/', text: 'Projects' }, { route: route('p', project), text: project },
    { route: route('p', project, 'models'), text: 'Models' }, { route: route('p', project, 'models', label), text: label }]);
  const [{ data: model }, summary] = await Promise.all([call('GET', path(project, 'models', label)), summaryOf(project, label)]);
  const e = summary.customEntityRecognitionEvaluation;
  const options = summary.evaluationOptions ?? {};
  const split = options.kind === 'manual' ? 'the Test set (manual split)'
    : `a ${options.testingSplitPercentage ?? 20}% test split`;
  const errorsArea = h('div', { 'aria-busy': 'true' }, h('p', { class: 'loading', text: 'Loading the test documents…' }));
  main.replaceChildren(
    h('div', { class: 'screen-head' }, h('h1', { text: `Model ${label}` }),
      h('p', { class: 'meta', text: `Trained ${formatTime(model.lastTrainedDateTime)} with ${model.modelTrainingConfigVersion} in ${
        plural(model.lastTrainingDurationInSeconds, 'second')}; evaluated on ${split}.` }),
      h('p', { class: 'meta' }, link(route('p', project, 'autolabel'), 'Auto-label documents with a model'))),
    h('div', { class: 'model-grid' },
      h('section', { class: 'card', 'aria-labelledby': 'overall-title' }, h('h2', { id: 'overall-title', text: 'Overall' }),
        h('dl', { class: 'figures' },
          h('dt', { text: 'Precision (micro)' }), h('dd', { id: 'micro-precision', text: percent(e.microPrecision) }),
          h('dt', { text: 'Recall (micro)' }), h('dd', { id: 'micro-recall', text: percent(e.microRecall) }),
          h('dt', { text: 'F1 (micro)' }), h('dd', { id: 'micro-f1', text: percent(e.microF1) }),
          h('dt', { text: 'F1 (macro)' }), h('dd', { text: percent(e.macroF1) }))),
      h('section', { class: 'card', 'aria-labelledby': 'entity-scores-title' },
        h('h2', { id: 'entity-scores-title', text: 'Entities' }), scoreTable(e.entities)),
      h('section', { class: 'card', 'aria-labelledby': 'confusion-title' },
        h('h2', { id: 'confusion-title', text: 'Confusion matrix' }), confusionTable(e.confusionMatrix)),
      h('section', { class: 'card', id: 'doc-errors', 'aria-labelledby': 'errors-title' },
        h('h2', { id: 'errors-title', text: 'Test documents with errors' }), errorsArea)));
  try {
    errorsArea.replaceChildren(await errorList(project, label));
  } catch (error) {
    errorsArea.replaceChildren(h('p', { text: `The per-document results could not be read: ${error.message}` }));
  } finally {
    errorsArea.setAttribute('aria-busy', 'false');
  }
}

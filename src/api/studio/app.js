// spanledger studio: the page's entry point. Sign-in, and the screens by hash route:
//   #/                       projects
//   #/p/{project}            a project: entity types and documents
//   #/p/{project}/d/{doc}    a document: labeling, review of suggestions, history
//   #/p/{project}/models     trained models; #/p/{project}/models/{label}: its evaluation
//   #/p/{project}/autolabel  the auto-labeling wizard
//   #/p/{project}/queue      the fast review queue: one suggestion at a time

import { checkKey, clearKey, getKey, setKey, whenUnauthorized } from './api.js';
import { field, h } from './dom.js';
import { showProject } from './documents.js';
import { showWizard } from './autolabel.js';
import { showDocument, stopDocument } from './labeling.js';
import { showProjects } from './projects.js';
import { showQueue, stopQueue } from './queue.js';
import { showModel, showModels } from './training.js';
import { clearNotice, focusHeading, notify, setCrumbs, showError } from './ui.js';

const main = () => document.getElementById('main');

// The screen on show may keep the page from leaving it (unsaved labels): it sets this.
let leaving = null;
let shownHash = null;

export function setLeaveGuard(guard) {
  leaving = guard;
}

function mayLeave() {
  if (!leaving) return true;
  const words = leaving();
  if (!words) return true;
  // eslint-disable-next-line no-alert
  return window.confirm(words);
}

function signIn(reason) {
  leaving = null;
  stopDocument();
  stopQueue();
  const input = h('input', { type: 'password', name: 'key', autocomplete: 'off', spellcheck: 'false', required: true });
  const status = h('p', { class: 'form-error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'primary', text: 'Sign in' });
  const form = h('form', { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title', text: 'Sign in' }),
    h('p', { text: 'Enter an API key of your spanledger resource (spanledger serve printed one when it first '
      + 'started; spanledger resources issue-key NAME makes another). The key is kept in this tab only.' }),
    field('API key', input),
    status,
    h('div', { class: 'actions' }, button));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) { status.textContent = 'Enter a key.'; return; }
    button.disabled = true;
    status.textContent = '';
    try {
      await checkKey(key);
      setKey(key);
      clearNotice();
      render();
    } catch (error) {
      status.textContent = error.status === 401
        ? 'That key was not accepted: check it, or ask for a new one.' : error.message;
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  document.getElementById('sign-out').hidden = true;
  setCrumbs([]);
  document.title = 'Sign in – spanledger studio';
  main().replaceChildren(form);
  if (reason) notify(reason, 'error');
  input.focus();
}

function signOut() {
  if (!mayLeave()) return;
  leaving = null;
  clearKey();
  clearNotice();
  signIn();
  notify('Signed out. The key is no longer kept in this tab.');
}

function parse(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'p' && parts.length === 2) return { screen: 'project', project: parts[1] };
  if (parts[0] === 'p' && parts[2] === 'd' && parts.length === 4) {
    return { screen: 'document', project: parts[1], document: parts[3] };
  }
  if (parts[0] === 'p' && parts[2] === 'models' && parts.length === 3) return { screen: 'models', project: parts[1] };
  if (parts[0] === 'p' && parts[2] === 'models' && parts.length === 4) {
    return { screen: 'model', project: parts[1], model: parts[3] };
  }
  if (parts[0] === 'p' && parts[2] === 'autolabel' && parts.length === 3) return { screen: 'autolabel', project: parts[1] };
  if (parts[0] === 'p' && parts[2] === 'queue' && parts.length === 3) return { screen: 'queue', project: parts[1] };
  return { screen: 'projects' };
}

async function render() {
  if (!getKey()) { signIn(); return; }
  document.getElementById('sign-out').hidden = false;
  leaving = null;
  stopDocument();
  stopQueue();
  shownHash = window.location.hash;
  const where = parse(window.location.hash);
  const el = main();
  el.replaceChildren(h('p', { class: 'loading', role: 'status', text: 'Loading…' }));
  try {
    if (where.screen === 'project') await showProject(el, where.project);
    else if (where.screen === 'models') await showModels(el, where.project);
    else if (where.screen === 'model') await showModel(el, where.project, where.model);
    else if (where.screen === 'autolabel') await showWizard(el, where.project);
    else if (where.screen === 'queue') await showQueue(el, where.project);
    else if (where.screen === 'document') await showDocument(el, where.project, where.document, { setLeaveGuard });
    else await showProjects(el);
    focusHeading(el);
  } catch (error) {
    if (error.status === 401) return;
    el.replaceChildren(h('h1', { text: 'Could not show this page' }), h('p', { text: error.message }),
      h('p', {}, h('a', { href: '#/', text: 'Back to the projects' })));
    showError(error);
  }
}

window.addEventListener('hashchange', () => {
  if (window.location.hash === shownHash) return;
  if (!mayLeave()) {
    history.replaceState(null, '', shownHash || '#/');
    return;
  }
  clearNotice();
  render();
});

window.addEventListener('beforeunload', (event) => {
  if (leaving && leaving()) {
    event.preventDefault();
    event.returnValue = '';
  }
});

whenUnauthorized(() => {
  clearKey();
  signIn('The API key is no longer accepted (revoked, or the server was reset). Sign in again.');
});

document.getElementById('sign-out').addEventListener('click', signOut);
document.getElementById('skip').addEventListener('click', () => main().focus());

// Re-renders the current screen (after a change made in it).
export function refresh() {
  render();
}

render();

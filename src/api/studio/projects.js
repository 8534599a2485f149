// The projects of the key's resource, and a form to create one with its entity types.

import { all, call, path } from './api.js';
import { field, formatTime, h } from './dom.js';
import { link, notify, route, setCrumbs, showError } from './ui.js';

const PROJECT_NAME = /^[A-Za-z0-9_.-]{1,50}$/;

export function entityNames(value) {
  return [...new Set(value.split(/[,\n]/).map((s) => s.trim()).filter(Boolean))];
}

function createForm() {
  const name = h('input', { name: 'projectName', required: true, maxlength: '50', autocomplete: 'off',
    pattern: '[A-Za-z0-9_.\\-]+', spellcheck: 'false' });
  const language = h('input', { name: 'language', value: 'en', required: true, maxlength: '10', autocomplete: 'off' });
  const description = h('input', { name: 'description', autocomplete: 'off' });
  const entities = h('input', { name: 'entities', autocomplete: 'off', placeholder: 'Person, Org, Location' });
  const status = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Create project' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'new-project-title' },
    h('h2', { id: 'new-project-title', text: 'New project' }),
    field('Name', name, 'Letters, digits, “_”, “.” and “-”; up to 50.'),
    field('Language', language, 'The documents’ language, e.g. en, de, pt-br.'),
    field('Description (optional)', description),
    field('Entity types', entities, 'Separated by commas; you can add more later.'),
    status,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.textContent = '';
    const projectName = name.value.trim();
    if (!PROJECT_NAME.test(projectName)) {
      status.textContent = 'The name may hold letters, digits, “_”, “.” and “-” only (1 to 50).';
      name.focus();
      return;
    }
    submit.disabled = true;
    try {
      const body = { projectName, projectKind: 'CustomEntityRecognition', language: language.value.trim(),
        storageInputContainerName: 'studio' };
      if (description.value.trim()) body.description = description.value.trim();
      // A PATCH to an existing project would change it: look first.
      const exists = await call('GET', path(projectName)).then(() => true, (error) => {
        if (error.status === 404) return false;
        throw error;
      });
      if (exists) {
        status.textContent = `A project named “${projectName}” exists already; open it from the list.`;
        return;
      }
      await call('PATCH', path(projectName), { body });
      const names = entityNames(entities.value);
      for (const entity of names) await call('PUT', path(projectName, 'entities', entity));
      notify(`Project “${projectName}” created${names.length ? ` with ${names.length} entity types` : ''}.`);
      window.location.hash = route('p', projectName);
    } catch (error) {
      status.textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export async function showProjects(main) {
  setCrumbs([{ route: '/', text: 'Projects' }]);
  let projects = [];
  let failure = null;
  try {
    projects = await all('', {}, 5000);
  } catch (error) {
    if (error.status === 401) throw error;
    failure = error;
  }
  const list = projects.length
    ? h('table', { class: 'list', 'aria-labelledby': 'projects-title' },
      h('thead', {}, h('tr', {}, ['Project', 'Language', 'Description', 'Last modified']
        .map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, projects.map((p) => h('tr', {},
        h('td', {}, link(route('p', p.projectName), p.projectName, { class: 'project-link' })),
        h('td', { text: p.language }),
        h('td', { text: p.description || '' }),
        h('td', { text: formatTime(p.lastModifiedDateTime) })))))
    : h('p', { text: failure ? 'The projects could not be listed.' : 'No projects yet: create one below.' });
  main.replaceChildren(
    h('div', { class: 'screen-head' }, h('h1', { id: 'projects-title', text: 'Projects' })),
    h('div', { class: 'two-col' }, h('section', { class: 'card', 'aria-label': 'Project list' }, list), createForm()));
  if (failure) showError(failure, 'Listing the projects failed');
}

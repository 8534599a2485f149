// A document's history, from its audit log (GET .../documents/{name}/events): who did what,
// and when, newest first, each entry said in words.

import { all, path, UTF16 } from './api.js';
import { excerpt, formatTime, h } from './dom.js';

function quoted(text, data) {
  if (typeof data.offset !== 'number' || typeof data.length !== 'number') return '';
  return `“${excerpt(text.slice(data.offset, data.offset + data.length), 50)}”`;
}

// What an event did, in words (the event's data is camelCase, offsets in UTF-16 units).
export function describeEvent(entry, text) {
  const d = entry.data ?? {};
  const span = quoted(text, d);
  switch (entry.eventType) {
    case 'DocumentAdded':
      return `added the document (${[d.dataset && `${d.dataset} set`, d.language,
        typeof d.characters === 'number' && `${d.characters.toLocaleString()} characters`].filter(Boolean).join(', ')})`;
    case 'DocumentDatasetChanged':
      return `moved the document to the ${d.dataset} set`;
    case 'DocumentDeleted':
      return 'deleted the document';
    case 'LabelAdded':
      return `labeled ${span} as ${d.entity} (${d.labelId})`;
    case 'LabelRemoved':
      return d.cause === 'entityRemoved'
        ? `removed the ${d.entity} label ${span} (${d.labelId}) with its entity type`
        : `removed the ${d.entity} label ${span} (${d.labelId})`;
    case 'AutoLabelSuggested': {
      const confidence = typeof d.confidence === 'number' ? `, confidence ${d.confidence.toFixed(2)}` : '';
      return `suggested ${d.entity} for ${span} (model ${d.modelLabel}${confidence}; ${d.suggestionId})`;
    }
    case 'AutoLabelAccepted':
      return `accepted the suggestion ${d.entity} ${span} (${d.suggestionId}, now label ${d.labelId})`;
    case 'AutoLabelRejected':
      return `rejected the suggestion ${d.entity} ${span} (${d.suggestionId})`;
    case 'AutoLabelSuperseded':
      return `dropped suggestion ${d.suggestionId}: label ${d.labelId} now covers its place`;
    case 'AutoLabelDecisionUndone':
      return `took back the decision (${d.decision}) on suggestion ${d.suggestionId}`;
    case 'AutoLabelDiscarded': {
      const n = Array.isArray(d.suggestionIds) ? d.suggestionIds.length : 0;
      return `dropped ${n} pending suggestion${n === 1 ? '' : 's'} when a training started`;
    }
    default:
      return entry.eventType;
  }
}

export async function loadHistory(project, document, text) {
  const entries = await all(`${path(project, 'documents', document)}/events`, { stringIndexType: UTF16 });
  return entries.reverse().map((entry) => ({ ...entry, words: describeEvent(entry, text) }));
}

export function historyTable(entries) {
  if (!entries.length) return h('p', { text: 'No events yet.' });
  const rows = entries.map((e) => h('tr', {},
    h('td', {}, h('time', { datetime: e.occurredDateTime, text: formatTime(e.occurredDateTime) })),
    h('td', { class: 'actor', text: e.actor }),
    h('td', { text: e.words })));
  return h('table', { class: 'history-table' },
    h('caption', { class: 'sr-only', text: 'Events of this document, newest first' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'When' }), h('th', { scope: 'col', text: 'Who' }),
      h('th', { scope: 'col', text: 'What' }))),
    h('tbody', {}, rows));
}

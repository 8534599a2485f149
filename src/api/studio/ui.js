// What every screen shares: the notice line (errors and confirmations, in words), the
// breadcrumbs, the page title, and links between screens (hash routes).

import { h } from './dom.js';

const notice = () => document.getElementById('notice');

// Shows a message: 'error' ones are announced at once (role=alert), others politely.
export function notify(message, kind = 'info') {
  const el = notice();
  el.hidden = false;
  el.className = `notice ${kind}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.replaceChildren(h('span', { class: 'notice-text', text: message }),
    h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss message', text: 'Dismiss',
      onclick: clearNotice }));
}

export function clearNotice() {
  const el = notice();
  el.hidden = true;
  el.replaceChildren();
}

// An error in words: the API's own message when it sent one (ApiError), else the error's.
export function showError(error, doing) {
  const words = error && error.message ? error.message : String(error);
  notify(doing ? `${doing}: ${words}` : words, 'error');
}

export function link(route, text, props = {}) {
  return h('a', { href: `#${route}`, ...props }, text);
}

export function route(...parts) {
  return `/${parts.map((p) => encodeURIComponent(p)).join('/')}`;
}

export function setCrumbs(items) {
  const nav = document.getElementById('crumbs');
  const list = h('ol', {}, items.map((item, i) => h('li', {},
    i === items.length - 1 ? h('span', { 'aria-current': 'page', text: item.text }) : link(item.route, item.text))));
  nav.replaceChildren(list);
  document.title = `${items.length ? items[items.length - 1].text : 'Projects'} – spanledger studio`;
}

// Moves focus to a screen's heading after it is drawn, so a screen reader says where it is.
export function focusHeading(main) {
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

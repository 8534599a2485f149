// The page's only way to the server: spanledger's public REST API, as any client calls it
// (the key in Ocp-Apim-Subscription-Key, an api-version on every request). Refusals become
// ApiError with the API's own message in words.

export const BASE = '/language/authoring/analyze-text/projects';
export const API_VERSION = '2025-05-15-preview';
export const UTF16 = 'Utf16CodeUnit';
const KEY_HEADER = 'Ocp-Apim-Subscription-Key';
const STORED_KEY = 'spanledger.studio.key';

// The key lives in sessionStorage: this tab only, gone when the tab closes.
export function getKey() {
  return sessionStorage.getItem(STORED_KEY);
}

export function setKey(key) {
  sessionStorage.setItem(STORED_KEY, key);
}

export function clearKey() {
  sessionStorage.removeItem(STORED_KEY);
}

export class ApiError extends Error {
  constructor(status, code, message, target) {
    super(message);
    this.status = status;
    this.code = code;
    this.target = target;
  }
}

// What to say when an answer carries no error body of its own (a proxy's page, say).
const WORDS = {
  400: 'The server refused the request as malformed.',
  401: 'The API key was not accepted. Sign in again with a valid key.',
  403: 'This key may not do that.',
  404: 'That was not found; it may have been deleted.',
  409: 'That conflicts with the current state; reload and try again.',
  412: 'The document was changed by someone else since you opened it.',
  413: 'That is too large for the server to accept.',
  429: 'Too many requests; wait a moment and try again.',
  503: 'The server is busy catching up; try again in a moment.',
};

function describe(status, error) {
  if (error && typeof error.message === 'string' && error.message) return error.message;
  if (WORDS[status]) return WORDS[status];
  if (status >= 500) return 'The server failed while handling this; see its log.';
  return 'The server refused the request.';
}

export function path(...segments) {
  return segments.map((s) => `/${encodeURIComponent(s)}`).join('');
}

let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

async function send(method, url, { body, ifMatch, key, headers: extra } = {}) {
  if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', API_VERSION);
  const headers = { ...extra, [KEY_HEADER]: key ?? getKey() ?? '' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch) headers['If-Match'] = ifMatch;
  let response;
  try {
    response = await fetch(url, {
      method, headers, cache: 'no-store', credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NetworkError', 'The server could not be reached. Check that spanledger is running, then try again.');
  }
  const raw = await response.text();
  let data = null;
  if (raw) {
    try { data = JSON.parse(raw); } catch { data = null; }
  }
  if (!response.ok) {
    const error = data && data.error;
    const problem = new ApiError(response.status, error?.code ?? 'Error', describe(response.status, error), error?.target);
    if (response.status === 401 && key === undefined) onUnauthorized(problem);
    throw problem;
  }
  return { data, etag: response.headers.get('ETag'), status: response.status, headers: response.headers };
}

// A call to an authoring route: `route` is the part after the projects' base path.
export function call(method, route, { query, ...options } = {}) {
  const url = new URL(BASE + route, window.location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
  return send(method, url, options);
}

// A nextLink the API handed out, fetched from this page's own origin (the link may name the
// server's public address, which this page's policy would not let it reach).
export function follow(nextLink) {
  const link = new URL(nextLink, window.location.origin);
  return send('GET', new URL(link.pathname + link.search, window.location.origin));
}

// Every item of a paged list, following nextLink, up to `limit` items.
export async function all(route, query = {}, limit = 10000) {
  let { data } = await call('GET', route, { query: { maxpagesize: 1000, ...query } });
  const items = [...data.value];
  while (data.nextLink && items.length < limit) {
    ({ data } = await follow(data.nextLink));
    items.push(...data.value);
  }
  return items;
}

// Checks a key before keeping it: listing projects needs any valid key.
export async function checkKey(key) {
  await call('GET', '', { query: { top: 1 }, key });
}

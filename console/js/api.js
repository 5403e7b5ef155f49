// console/js/api.js - talking to gongd's /api/v1/.
//
// Two ways to be someone: the console session (POST /api/v1/login sets
// the HttpOnly cookie gong_session; its CSRF token, answered by login and
// by GET /api/v1/me, goes into X-CSRF-Token on every POST), or, for
// operators, an API token typed into the login page (kept in this tab's
// sessionStorage only, sent as Authorization: Bearer).

export const session = {
	me: null,		// GET /api/v1/me
	csrf: null,
	token: sessionStorage.getItem('gong.token') || null,
	onUnauthorized: null,	// set by app.js
};

export class ApiError extends Error {
	constructor(status, body) {
		const e = body && typeof body === 'object' && body.error ?
		    body.error : null;
		super(e && e.message ? e.message :
		    typeof body === 'string' && body ? body.slice(0, 200) :
		    'HTTP ' + status);
		this.status = status;
		this.code = e ? e.code : null;
		this.body = body;
	}
	// The route does not exist in this gongd (not built yet).
	get missing() {
		return (this.status === 404 && this.code === 'not_found' &&
		    /no such endpoint/.test(this.message)) ||
		    this.status === 405 && this.code === 'method_not_allowed';
	}
}

export function setToken(tok) {
	session.token = tok || null;
	if (tok)
		sessionStorage.setItem('gong.token', tok);
	else
		sessionStorage.removeItem('gong.token');
}

// api('GET', '/api/v1/alerts') -> parsed JSON (or text).  Throws
// ApiError.  opts: {body, raw (text), quiet401}.
export async function api(method, path, opts) {
	opts = opts || {};
	const headers = { 'Accept': 'application/json' };
	if (session.token)
		headers['Authorization'] = 'Bearer ' + session.token;
	else if (method !== 'GET' && method !== 'HEAD' && session.csrf)
		headers['X-CSRF-Token'] = session.csrf;
	let body;
	if (opts.body !== undefined) {
		headers['Content-Type'] = 'application/json';
		body = JSON.stringify(opts.body);
	}
	let r;
	try {
		r = await fetch(path, { method, headers, body,
		    credentials: 'same-origin', cache: 'no-store',
		    redirect: 'error' });
	} catch (err) {
		throw new ApiError(0, 'network: ' + err.message);
	}
	const ct = r.headers.get('Content-Type') || '';
	let data;
	if (opts.raw || !ct.includes('json'))
		data = await r.text();
	else
		data = await r.json().catch(() => null);
	if (!r.ok) {
		const e = new ApiError(r.status, data);
		if (r.status === 401 && !opts.quiet401 &&
		    session.onUnauthorized)
			session.onUnauthorized(e);
		throw e;
	}
	return data;
}

export const get = (p, o) => api('GET', p, o);
export const post = (p, body, o) => api('POST', p,
    Object.assign({ body: body === undefined ? {} : body }, o || {}));

// Who is calling now (null when nobody).
export async function whoami() {
	try {
		const me = await get('/api/v1/me', { quiet401: true });
		session.me = me;
		if (me && me.csrf)
			session.csrf = me.csrf;
		return me;
	} catch (e) {
		if (e.status === 401) {
			session.me = null;
			return null;
		}
		throw e;
	}
}

// Prometheus text -> [{name, labels, value}].
export function parseMetrics(text) {
	const out = [];
	for (const line of String(text).split('\n')) {
		if (!line || line[0] === '#')
			continue;
		const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
		if (!m)
			continue;
		const labels = {};
		if (m[3]) {
			const re = /(\w+)="((?:[^"\\]|\\.)*)"/g;
			let x;
			while ((x = re.exec(m[3])) !== null)
				labels[x[1]] = x[2].replace(/\\(.)/g, '$1');
		}
		out.push({ name: m[1], labels, value: Number(m[4]) });
	}
	return out;
}

// May the caller act (issue, cancel, answer)?  Viewers may not.
export function canAct() {
	const me = session.me;
	return !!me && (me.role === 'admin' || me.role === 'officer');
}

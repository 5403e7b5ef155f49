// console/js/dom.js - building the page without HTML strings, and the
// translations.
//
// Every text that comes from the server goes into the page as a text
// node (textContent), never as markup: h() has no way to insert HTML.
// Translated labels are elements with data-i18n="key" (and their
// arguments in data-i18n-args), so switching the language rewrites them
// in place and nothing the user typed or opened is lost.

let dict = {};
let lang = 'zh-CN';

export const LANGS = ['zh-CN', 'en'];

export async function loadLang(l) {
	if (!LANGS.includes(l))
		l = 'zh-CN';
	const r = await fetch('/console/i18n/' + l + '.json',
	    { cache: 'no-cache' });
	if (!r.ok)
		throw new Error('i18n ' + l + ': HTTP ' + r.status);
	dict = await r.json();
	lang = l;
	document.documentElement.lang = l;
}

export function currentLang() {
	return lang;
}

// The translation of key with {name} replaced from args.
export function t(key, args) {
	let s = Object.prototype.hasOwnProperty.call(dict, key) ?
	    dict[key] : key;
	if (args)
		s = s.replace(/\{(\w+)\}/g, (m, k) =>
		    args[k] !== undefined && args[k] !== null ?
		    String(args[k]) : m);
	return s;
}

export function has(key) {
	return Object.prototype.hasOwnProperty.call(dict, key);
}

// The translation of key as a translated span, or the text fallback
// when there is none (a role or level this console does not know).
export function label(key, fallback) {
	if (has(key))
		return T(key);
	const e = document.createElement('span');
	e.textContent = fallback === undefined || fallback === null ? '' :
	    String(fallback);
	return e;
}

// Rewrite every translated element after a language switch.
export function retranslate(root) {
	for (const e of (root || document).querySelectorAll('[data-i18n]')) {
		let args;
		try {
			args = e.dataset.i18nArgs ?
			    JSON.parse(e.dataset.i18nArgs) : undefined;
		} catch (err) {
			args = undefined;
		}
		const v = t(e.dataset.i18n, args);
		if (e.dataset.i18nAttr)
			e.setAttribute(e.dataset.i18nAttr, v);
		else
			e.textContent = v;
	}
}

// A translated span.
export function T(key, args) {
	const e = document.createElement('span');
	setT(e, key, args);
	return e;
}

export function setT(e, key, args) {
	e.dataset.i18n = key;
	if (args)
		e.dataset.i18nArgs = JSON.stringify(args);
	else
		delete e.dataset.i18nArgs;
	e.textContent = t(key, args);
	return e;
}

// h('div', {class: 'x', onclick: f}, child, 'text', [more]) -> Element.
// Attributes: class, text (textContent), i18n (a key, or [key, args]),
// placeholder_i18n (a key for the placeholder), on* listeners, and
// plain attributes set with setAttribute (false/null: left out).
export function h(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === undefined || v === null || v === false)
				continue;
			if (k === 'class')
				e.className = v;
			else if (k === 'text')
				e.textContent = String(v);
			else if (k === 'i18n')
				Array.isArray(v) ? setT(e, v[0], v[1]) :
				    setT(e, v);
			else if (k === 'placeholder_i18n') {
				e.dataset.i18n = v;
				e.dataset.i18nAttr = 'placeholder';
				e.setAttribute('placeholder', t(v));
			} else if (k.startsWith('on') &&
			    typeof v === 'function')
				e.addEventListener(k.slice(2), v);
			else if (k === 'value')
				e.value = v;
			else
				e.setAttribute(k, v === true ? '' : String(v));
		}
	}
	append(e, kids);
	return e;
}

function append(e, kids) {
	for (const k of kids) {
		if (k === undefined || k === null || k === false)
			continue;
		if (Array.isArray(k))
			append(e, k);
		else if (k instanceof Node)
			e.append(k);
		else
			e.append(document.createTextNode(String(k)));
	}
}

// Replace el's children.
export function fill(el, ...kids) {
	el.replaceChildren();
	append(el, kids);
	return el;
}

// "12.5%" of a rate 0..1, or "—".
export function pct(rate) {
	if (rate === null || rate === undefined || Number.isNaN(rate))
		return '—';
	const p = rate * 100;
	return (Number.isInteger(p) ? p.toFixed(0) : p.toFixed(1)) + '%';
}

// The class of a 叫应率: hi >= 90 %, mid >= 50 %, lo below, none.
export function rateClass(rate) {
	if (rate === null || rate === undefined)
		return 'rate-none';
	return rate >= 0.9 ? 'rate-hi' : rate >= 0.5 ? 'rate-mid' : 'rate-lo';
}

export function fmtTime(iso) {
	if (!iso)
		return '—';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime()))
		return String(iso);
	return d.toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN',
	    { hour12: false });
}

// "5 分钟" / "5 min" since iso.
export function age(iso, now) {
	const d = new Date(iso).getTime();
	if (Number.isNaN(d))
		return '—';
	let s = Math.max(0, Math.round(((now || Date.now()) - d) / 1000));
	if (s < 60)
		return t('age_s', { n: s });
	if (s < 3600)
		return t('age_m', { n: Math.floor(s / 60) });
	if (s < 86400)
		return t('age_h', { n: Math.floor(s / 3600) });
	return t('age_d', { n: Math.floor(s / 86400) });
}

// A scrollable table: heads are i18n keys.
export function table(heads, rows, cls) {
	return h('div', { class: 'tablewrap' },
	    h('table', { class: cls || '' },
	    h('thead', null, h('tr', null,
	    heads.map((k) => h('th', { i18n: k })))),
	    h('tbody', null, rows)));
}

// A generic, readable rendering of any JSON value (for answers whose
// exact shape this console does not know, e.g. a dry run's counts).
export function jsonView(v, depth) {
	depth = depth || 0;
	if (v === null || v === undefined)
		return h('span', { class: 'muted', text: '—' });
	if (typeof v !== 'object') {
		const s = String(v);
		return s.length > 80 || s.includes('\n') ?
		    h('pre', { class: 'text', text: s }) :
		    h('span', { text: s });
	}
	if (Array.isArray(v)) {
		if (v.length === 0)
			return h('span', { class: 'muted', text: '[]' });
		if (v.every((x) => x && typeof x === 'object' &&
		    !Array.isArray(x))) {
			const keys = [];
			for (const x of v)
				for (const k of Object.keys(x))
					if (!keys.includes(k))
						keys.push(k);
			return h('div', { class: 'tablewrap' }, h('table', null,
			    h('thead', null, h('tr', null,
			    keys.map((k) => h('th', { text: k })))),
			    h('tbody', null, v.map((x) => h('tr', null,
			    keys.map((k) => h('td', null,
			    jsonView(x[k], depth + 1))))))));
		}
		return h('ul', null, v.map((x) => h('li', null,
		    jsonView(x, depth + 1))));
	}
	return h('dl', { class: 'kv' }, Object.entries(v).map(([k, x]) => [
	    h('dt', { text: k }), h('dd', null, jsonView(x, depth + 1))]));
}

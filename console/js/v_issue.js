// console/js/v_issue.js - issue, update or cancel a warning: the form,
// the dry run (POST /api/v1/warnings?dry_run=1: who and what it will
// reach per level, channel and role, each channel's rendered text), then
// the confirmation (POST /api/v1/warnings, .../{id}/update, .../cancel).
//
// The form is never redrawn by polling; what is typed is also kept in
// this tab's sessionStorage, so leaving the page and coming back finds
// it again.  Confirm is enabled only for exactly what was previewed: any
// change after the preview asks for a new one.
import { h, fill, T, jsonView, label } from './dom.js';
import { get, post, canAct, ApiError } from './api.js';

const EVENTS = ['暴雨', '大风', '台风', '暴雪', '寒潮', '高温', '干旱',
    '雷电', '冰雹', '霜冻', '大雾', '霾', '道路结冰', '沙尘暴',
    '森林火险', '地质灾害', '山洪', '洪水'];

function localInput(d) {
	const p = (n) => String(n).padStart(2, '0');
	return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' +
	    p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
}

export function issueView(params) {
	const mode = params.has('cancel') ? 'cancel' :
	    params.has('update') ? 'update' : 'new';
	const ref = Number(params.get(mode)) || null;
	const draftKey = 'gong.draft.' + mode + (ref || '');
	const f = {};
	const inp = (name, attrs) => (f[name] = h('input', Object.assign({
	    id: 'f-' + name, name }, attrs || {})));
	const area = (name) => (f[name] = h('textarea', { id: 'f-' + name,
	    name, rows: 3, maxlength: 4000 }));
	const sel = (name, opts) => (f[name] = h('select', { id: 'f-' + name,
	    name }, opts.map(([v, k]) => h('option', { value: v,
	    i18n: k }))));
	const regionNames = h('p', { class: 'muted small',
	    id: 'region-names' });
	const preview = h('div', { id: 'preview' });
	const msg = h('div', { class: 'msg', id: 'issue-msg', role: 'alert' });
	const btnPreview = h('button', { type: 'button', id: 'btn-preview',
	    i18n: 'preview' });
	const btnConfirm = h('button', { type: 'button', id: 'btn-confirm',
	    class: mode === 'cancel' ? 'danger' : '', disabled: true,
	    i18n: mode === 'cancel' ? 'confirm_cancel' : 'confirm_issue' });
	let previewed = null;	// the JSON body previewed

	const fields = mode === 'cancel' ? [
	    h('label', null, T('cancel_reason'), inp('reason',
	    { maxlength: 500 }))] : [
	    h('label', null, T('th_event'), inp('event',
	    { list: 'events', required: true, maxlength: 60 }),
	    h('datalist', { id: 'events' }, EVENTS.map((e) =>
	    h('option', { value: e })))),
	    h('label', null, T('colour'), sel('colour', [['blue',
	    'colour_blue'], ['yellow', 'colour_yellow'], ['orange',
	    'colour_orange'], ['red', 'colour_red']])),
	    h('label', { class: 'wide' }, T('headline'), inp('headline',
	    { maxlength: 160 })),
	    h('label', { class: 'wide' }, T('description'),
	    area('description')),
	    h('label', { class: 'wide' }, T('instruction'),
	    area('instruction')),
	    h('label', { class: 'wide' }, T('regions'), inp('regions',
	    { placeholder: '140425100201 140425100202', required: true,
	    inputmode: 'numeric', maxlength: 2000 }), regionNames),
	    h('label', null, T('expires'), inp('expires',
	    { type: 'datetime-local' })),
	    h('fieldset', null, h('legend', { i18n: 'status' }),
	    h('label', { class: 'inline' }, (f.status_actual = h('input', {
	    type: 'radio', name: 'status', value: 'Actual',
	    id: 'f-status-actual' })), T('status_Actual')),
	    h('label', { class: 'inline' }, (f.status_exercise = h('input', {
	    type: 'radio', name: 'status', value: 'Exercise',
	    id: 'f-status-exercise' })), T('status_Exercise'))),
	    h('label', null, T('language'), sel('language', [['zh-CN',
	    'lang_zh'], ['en', 'lang_en']])),
	    h('label', null, T('sender_name'), inp('sender_name',
	    { maxlength: 100 }))];

	const form = h('form', { class: 'card issue-form', id: 'issue-form',
	    autocomplete: 'off' },
	    h('h1', { i18n: 'issue_' + mode }),
	    ref ? h('p', null, T('refers_to'), ' ', h('a', {
	    href: '#/alert/' + ref, id: 'ref-link', text: '#' + ref })) : null,
	    h('div', { class: 'grid' }, fields),
	    h('div', { class: 'buttons' }, btnPreview, btnConfirm), msg);
	const el = h('section', { class: 'issue' }, canAct() ? form :
	    h('p', { class: 'card', i18n: 'viewer_cannot' }), preview);

	function body() {
		if (mode === 'cancel') {
			const b = {};
			if (f.reason.value.trim())
				b.reason = f.reason.value.trim();
			return b;
		}
		const b = {
			event: f.event.value.trim(),
			colour: f.colour.value,
			headline: f.headline.value.trim(),
			description: f.description.value.trim(),
			instruction: f.instruction.value.trim(),
			regions: f.regions.value.split(/[\s,，、;；]+/)
			    .filter(Boolean),
			status: f.status_exercise.checked ? 'Exercise' :
			    'Actual',
			language: f.language.value,
		};
		if (f.expires.value) {
			const d = new Date(f.expires.value);
			if (!Number.isNaN(d.getTime()))
				b.expires = d.toISOString().replace(/\.\d+Z$/,
				    'Z');
		}
		if (f.sender_name.value.trim())
			b.sender_name = f.sender_name.value.trim();
		for (const k of ['headline', 'description', 'instruction'])
			if (!b[k])
				delete b[k];
		return b;
	}
	function url(dry) {
		const p = mode === 'new' ? '/api/v1/warnings' :
		    '/api/v1/warnings/' + ref + '/' + mode;
		return dry ? p + '?dry_run=1' : p;
	}
	function save() {
		const v = {};
		for (const [k, e] of Object.entries(f))
			v[k] = e.type === 'radio' ? e.checked : e.value;
		sessionStorage.setItem(draftKey, JSON.stringify(v));
	}
	function restore() {
		let v = null;
		try {
			v = JSON.parse(sessionStorage.getItem(draftKey));
		} catch (e) {
			v = null;
		}
		if (!v)
			return false;
		for (const [k, e] of Object.entries(f))
			if (k in v) {
				if (e.type === 'radio')
					e.checked = !!v[k];
				else
					e.value = v[k];
			}
		return true;
	}
	async function prefill() {
		if (mode === 'new') {
			f.expires.value = localInput(new Date(Date.now() +
			    6 * 3600 * 1000));
			f.status_actual.checked = true;
			f.language.value = 'zh-CN';
			return;
		}
		if (mode !== 'update')
			return;
		const a = (await get('/api/v1/alerts/' + ref)).alert;
		const info = a.cap && a.cap.info && a.cap.info[0] || {};
		f.event.value = a.event || '';
		f.colour.value = a.colour || 'yellow';
		f.headline.value = info.headline || a.headline || '';
		f.description.value = info.description || '';
		f.instruction.value = info.instruction || '';
		f.regions.value = (a.target_regions || []).map((r) =>
		    r.code).join(' ');
		if (a.expires)
			f.expires.value = localInput(new Date(a.expires));
		(a.status === 'Exercise' ? f.status_exercise :
		    f.status_actual).checked = true;
		f.language.value = a.language === 'en' ? 'en' : 'zh-CN';
		f.sender_name.value = info.senderName || '';
		names();
	}
	let namesTimer = null;
	async function names() {
		if (!f.regions)
			return;
		const codes = f.regions.value.split(/[\s,，、;；]+/)
		    .filter(Boolean).slice(0, 20);
		const out = await Promise.all(codes.map(async (c) => {
			try {
				const r = await get('/api/v1/regions/' +
				    encodeURIComponent(c));
				const reg = r.region || r;
				return (reg.name || c) + ' (' + c + ')';
			} catch (e) {
				return c + ' ?';
			}
		}));
		regionNames.textContent = out.join('、');
	}
	function changed() {
		save();
		if (previewed !== null &&
		    JSON.stringify(body()) !== previewed) {
			previewed = null;
			btnConfirm.disabled = true;
			fill(msg, T('changed_preview_again'));
		}
	}
	form.addEventListener('input', (ev) => {
		changed();
		if (ev.target === f.regions) {
			clearTimeout(namesTimer);
			namesTimer = setTimeout(names, 400);
		}
	});
	form.addEventListener('change', changed);
	form.addEventListener('submit', (ev) => ev.preventDefault());

	function unavailable(e) {
		fill(msg, h('p', { class: 'error', id: 'not-available' },
		    T('issue_unavailable', { path: url(false) })),
		    h('p', { class: 'muted small', text: e.message }));
	}

	btnPreview.addEventListener('click', async () => {
		if (!form.reportValidity())
			return;
		const b = body();
		btnPreview.disabled = true;
		btnConfirm.disabled = true;
		fill(msg);
		fill(preview, h('p', { class: 'muted', i18n: 'loading' }));
		try {
			const r = await post(url(true), b);
			previewed = JSON.stringify(b);
			renderPreview(preview, r);
			btnConfirm.disabled = false;
			fill(msg, T('preview_ok'));
		} catch (e) {
			fill(preview);
			if (e instanceof ApiError && e.missing)
				unavailable(e);
			else
				showError(msg, e);
		} finally {
			btnPreview.disabled = false;
		}
	});
	btnConfirm.addEventListener('click', async () => {
		const b = body();
		if (previewed === null || JSON.stringify(b) !== previewed) {
			btnConfirm.disabled = true;
			fill(msg, T('changed_preview_again'));
			return;
		}
		btnConfirm.disabled = true;
		try {
			const r = await post(url(false), b);
			sessionStorage.removeItem(draftKey);
			if (r && r.pending_id) {
				fill(msg, h('p', { id: 'issue-pending',
				    i18n: ['pending_approval',
				    { id: r.pending_id }] }));
				return;
			}
			const nid = r && (r.id || r.alert_id ||
			    (r.alert && r.alert.id));
			fill(msg, T(mode === 'cancel' ? 'cancelled_ok' :
			    'issued_ok', { id: nid || '' }));
			if (nid)
				location.hash = '#/alert/' + nid;
		} catch (e) {
			btnConfirm.disabled = false;
			if (e instanceof ApiError && e.missing)
				unavailable(e);
			else
				showError(msg, e);
		}
	});

	if (canAct()) {
		if (!restore())
			prefill().catch((e) => showError(msg, e));
		else
			names();
	}
	return { el };
}

function showError(msg, e) {
	const errs = e.body && Array.isArray(e.body.errors) ? e.body.errors :
	    [];
	fill(msg, h('p', { class: 'error' }, e.status === 403 ?
	    T('forbidden', { msg: e.message }) :
	    T('error_msg', { msg: e.message })),
	    errs.length ? h('ul', { class: 'error' }, errs.map((x) =>
	    h('li', { text: typeof x === 'string' ? x :
	    (x.field || x.path ? (x.field || x.path) + ': ' : '') +
	    (x.message || JSON.stringify(x)) }))) :
	    null);
}

// The dry run (the answer of POST /api/v1/plan for the message built,
// plus its CAP): how many deliveries, people and devices; counts per
// level, channel and role; each channel's rendered text (samples); the
// engine's warnings; the CAP XML.  Members this console does not know
// are shown as they are.
function renderPreview(el, r) {
	const parts = [h('h2', { i18n: 'preview_title' })];
	if (!r || typeof r !== 'object') {
		fill(el, h('section', { class: 'card', id: 'preview-card' },
		    parts, jsonView(r)));
		return;
	}
	const rest = Object.assign({}, r);
	const take = (k) => {
		const v = rest[k];
		delete rest[k];
		return v;
	};
	const num = (k) => (typeof r[k] === 'number' ? r[k] : null);
	if (num('deliveries') !== null || num('people') !== null)
		parts.push(h('p', { class: 'totals', id: 'preview-total',
		    i18n: ['preview_summary', { deliveries: take('deliveries'),
		    people: take('people'), devices: take('devices') ?? 0,
		    regions: take('regions') ?? 0 }] }));
	if (r.needs_approval)
		parts.push(h('p', { class: 'error', i18n: 'needs_approval' }));
	delete rest.needs_approval;
	for (const [k, title] of [['by_level', 'preview_by_level'],
	    ['by_channel', 'preview_by_channel'],
	    ['by_role', 'preview_by_role'],
	    ['devices_by_kind', 'preview_by_device'],
	    ['no_address', 'preview_no_address']]) {
		const v = take(k);
		if (!v || typeof v !== 'object' || !Object.keys(v).length)
			continue;
		parts.push(h('h3', { i18n: title }), h('div', {
		    class: 'tablewrap', id: 'preview-' + k }, h('table', null,
		    h('tbody', null, Object.entries(v).map(([n, c]) =>
		    h('tr', { 'data-key': n, 'data-n': typeof c === 'number' ?
		    c : null }, h('th', null, k === 'by_level' ||
		    k === 'by_role' ? label((k === 'by_level' ? 'level_' :
		    'role_') + n, n) : n), h('td', { text: typeof c === 'object' ?
		    JSON.stringify(c) : c })))))));
	}
	for (const k of ['samples', 'texts', 'rendered']) {
		const v = take(k);
		if (!v)
			continue;
		const list = Array.isArray(v) ? v : Object.entries(v).map(
		    ([c, x]) => ({ channel: c, text: x }));
		parts.push(h('h3', { i18n: 'preview_texts' }),
		    h('div', { class: 'texts', id: 'preview-texts' },
		    list.map((x) => h('div', { class: 'text' },
		    h('div', { class: 'muted small', text: [x.channel,
		    x.template, x.role, x.region, x.language,
		    x.segments ? x.segments + ' seg' : null]
		    .filter(Boolean).join(' · ') }),
		    x.subject ? h('strong', { text: x.subject }) : null,
		    typeof x.text === 'string' ? h('pre', { text: x.text }) :
		    jsonView(x)))));
	}
	const w = take('warnings');
	if (Array.isArray(w) && w.length)
		parts.push(h('h3', { i18n: 'preview_warnings' }),
		    h('ul', { class: 'error' }, w.map((x) => h('li', {
		    text: (x.path ? x.path + ': ' : '') + (x.message ||
		    JSON.stringify(x)) }))));
	const cap = take('cap');
	if (typeof cap === 'string')
		parts.push(h('details', null, h('summary', {
		    i18n: 'preview_cap' }), h('pre', { class: 'cap',
		    id: 'preview-cap', text: cap })));
	if (Object.keys(rest).length)
		parts.push(h('details', null, h('summary', {
		    i18n: 'preview_other' }), jsonView(rest)));
	fill(el, h('section', { class: 'card', id: 'preview-card' }, parts));
}

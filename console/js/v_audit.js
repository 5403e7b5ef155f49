// console/js/v_audit.js - the audit trail (GET /api/v1/audit): who did
// what, when, from where, and how it ended; filtered by actor and
// action.  Officers see their jurisdiction's rows, admins all.
import { h, fill, T, fmtTime, table } from './dom.js';
import { get } from './api.js';

export function auditView() {
	const actor = h('input', { id: 'audit-actor', maxlength: 130 });
	const action = h('input', { id: 'audit-action', maxlength: 64 });
	const list = h('div', { id: 'audit-list' });
	const form = h('form', { class: 'filters' },
	    h('label', null, T('th_actor'), actor),
	    h('label', null, T('th_action_name'), action),
	    h('button', { type: 'submit', i18n: 'filter' }));
	const el = h('section', { class: 'card audit' },
	    h('h1', { i18n: 'audit_title' }), form, list);
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		refresh().catch(() => {});
	});

	function summary(x) {
		const v = x.after || x.before;
		if (!v || typeof v !== 'object')
			return v ? String(v) : '';
		return Object.entries(v).filter(([, y]) => y !== null &&
		    typeof y !== 'object').slice(0, 6).map(([k, y]) =>
		    k + '=' + y).join(' ');
	}

	async function refresh() {
		const q = new URLSearchParams({ limit: '200' });
		if (actor.value.trim())
			q.set('actor', actor.value.trim());
		if (action.value.trim())
			q.set('action', action.value.trim());
		let r;
		try {
			r = await get('/api/v1/audit?' + q.toString());
		} catch (e) {
			if (e.status === 403) {
				fill(list, h('p', { class: 'error',
				    i18n: ['forbidden', { msg: e.message }] }));
				return;
			}
			throw e;
		}
		const rows = (r.audit || []).map((x) => h('tr', {
		    class: /^denied|^failed/.test(x.outcome) ? 'bad' : '' },
		    h('td', { text: fmtTime(x.at) }),
		    h('td', { text: x.actor }),
		    h('td', { text: x.action }),
		    h('td', { text: x.target || '' }),
		    h('td', { text: x.outcome }),
		    h('td', { text: x.from || '' }),
		    h('td', { class: 'small', text: summary(x) })));
		fill(list, rows.length ? table(['th_time', 'th_actor',
		    'th_action_name', 'th_target', 'th_outcome', 'th_from',
		    'th_detail'], rows) : h('p', { class: 'muted',
		    i18n: 'none' }));
	}
	return { el, refresh };
}

// console/js/v_alerts.js - the alerts: active, exercises, recent; each
// with its colour, event, area, age and 叫应率.
//
// GET /api/v1/alerts (newest 100); the area from each alert's target
// regions (GET /api/v1/alerts/{id}, once per alert); the 叫应率 from
// /metrics (gong_answer_targeted / _answered of active alerts) or, for
// the others, from GET .../report (again at most every 30 s).
import { h, fill, T, t, pct, rateClass, age, table } from './dom.js';
import { get, post, session, parseMetrics, canAct } from './api.js';

const areaCache = new Map();	// id -> "a、b"
const rateCache = new Map();	// id -> {rate, targeted, answered, at}

export function colourChip(colour) {
	const c = ['blue', 'yellow', 'orange', 'red'].includes(colour) ?
	    colour : 'none';
	return h('span', { class: 'chip colour-' + c,
	    i18n: 'colour_' + c });
}

export function rateBadge(rate, extra) {
	return h('span', { class: 'rate ' + rateClass(rate), text: pct(rate) +
	    (extra ? ' ' + extra : '') });
}

function kindOf(a) {
	if (a.status === 'Exercise' || a.status === 'Test' ||
	    a.status === 'Draft')
		return 'exercise';
	return a.state === 'active' ? 'active' : 'recent';
}

async function areaOf(a) {
	if (areaCache.has(a.id))
		return areaCache.get(a.id);
	try {
		const d = await get('/api/v1/alerts/' + a.id);
		const names = (d.alert.target_regions || []).map((r) => r.name ||
		    r.code);
		const s = names.slice(0, 4).join('、') +
		    (names.length > 4 ? ' …' : '');
		areaCache.set(a.id, s);
		return s;
	} catch (e) {
		return '';
	}
}

async function rateOf(a, metrics) {
	const m = metrics.get(String(a.id));
	if (m && m.targeted !== undefined) {
		const r = { targeted: m.targeted, answered: m.answered || 0 };
		r.rate = r.targeted > 0 ? r.answered / r.targeted : null;
		return r;
	}
	const c = rateCache.get(a.id);
	if (c && Date.now() - c.at < 30000)
		return c;
	try {
		const rep = await get('/api/v1/alerts/' + a.id + '/report');
		const x = { targeted: rep.totals.targeted,
		    answered: rep.totals.answered, rate: rep.totals.rate,
		    at: Date.now() };
		rateCache.set(a.id, x);
		return x;
	} catch (e) {
		return { rate: null };
	}
}

export function alertsView() {
	const sections = {};
	const el = h('section', { class: 'alerts' },
	    h('div', { class: 'bar' }, h('h1', { i18n: 'alerts_title' }),
	    canAct() ? h('a', { class: 'button', href: '#/issue',
	    i18n: 'issue_new' }) : null));
	const pending = pendingSection();
	el.append(pending.el);
	for (const k of ['active', 'exercise', 'recent']) {
		const body = h('div', { class: 'list', id: 'alerts-' + k });
		const count = h('span', { class: 'count' });
		sections[k] = { body, count };
		el.append(h('section', { class: 'card' },
		    h('h2', null, T('alerts_' + k), ' ', count), body));
	}

	async function refresh() {
		const [list, mtext] = await Promise.all([
		    get('/api/v1/alerts?limit=100'),
		    get('/metrics', { raw: true }).catch(() => ''),
		    pending.refresh()]);
		const metrics = new Map();
		for (const m of parseMetrics(mtext)) {
			if (m.name !== 'gong_answer_targeted' &&
			    m.name !== 'gong_answer_answered')
				continue;
			const x = metrics.get(m.labels.alert) || {};
			x[m.name === 'gong_answer_targeted' ? 'targeted' :
			    'answered'] = m.value;
			metrics.set(m.labels.alert, x);
		}
		// One row per chain: its latest message, a Cancel shown as
		// the state of what it cancelled.
		const alerts = (list.alerts || []).filter((a) =>
		    a.msg_type !== 'Cancel' && a.state !== 'superseded');
		const extra = await Promise.all(alerts.map(async (a) =>
		    [await areaOf(a), await rateOf(a, metrics)]));
		const rows = { active: [], exercise: [], recent: [] };
		const now = Date.now();
		alerts.forEach((a, i) => {
			const [area, r] = extra[i];
			rows[kindOf(a)].push(h('tr', { 'data-id': a.id,
			    class: 'state-' + a.state },
			    h('td', null, colourChip(a.colour)),
			    h('td', { text: a.event || '—' }),
			    h('td', null, h('a', { href: '#/alert/' + a.id,
			    class: 'alert-link', text: a.headline ||
			    a.identifier })),
			    h('td', { text: area || '—' }),
			    h('td', { text: age(a.received, now),
			    title: a.received }),
			    h('td', null, rateBadge(r.rate), r.targeted ?
			    h('span', { class: 'muted small', text: ' ' +
			    (r.answered || 0) + '/' + r.targeted }) : null),
			    h('td', null, h('span', { class: 'state',
			    i18n: 'state_' + a.state }),
			    a.msg_type !== 'Alert' ? h('span', {
			    class: 'muted small', text: ' ' + a.msg_type }) :
			    null)));
		});
		for (const k of Object.keys(rows)) {
			const s = sections[k];
			s.count.textContent = '(' + rows[k].length + ')';
			if (rows[k].length === 0)
				fill(s.body, h('p', { class: 'muted',
				    i18n: 'none' }));
			else
				fill(s.body, table(['th_colour', 'th_event',
				    'th_headline', 'th_area', 'th_age',
				    'th_rate', 'th_state'], rows[k]));
		}
	}
	return { el, refresh };
}


// Warnings waiting for a second officer's approval (GET
// /api/v1/warnings/pending): approve or reject (with a reason) those
// someone else submitted.  Redrawn only when the list changes, and not
// while the user is typing a reason in it.
function pendingSection() {
	const body = h('div', { id: 'pending' });
	const msg = h('p', { class: 'msg', id: 'pending-msg', role: 'alert' });
	const count = h('span', { class: 'count' });
	const el = h('section', { class: 'card', id: 'pending-card', hidden:
	    true }, h('h2', null, T('pending_title'), ' ', count), body, msg);
	let last = null;

	async function decide(p, approve, reason) {
		fill(msg);
		try {
			const r = await post('/api/v1/warnings/pending/' + p.id +
			    (approve ? '/approve' : '/reject'), approve ? {} :
			    reason ? { reason } : {});
			fill(msg, T(approve ? 'approved_ok' : 'rejected_ok',
			    { id: r.id || p.id }));
			last = null;
			await refresh();
		} catch (e) {
			fill(msg, h('span', { class: 'error' }, e.status === 403 ?
			    T('forbidden', { msg: e.message }) :
			    T('error_msg', { msg: e.message })));
		}
	}

	async function refresh() {
		let r;
		try {
			r = await get('/api/v1/warnings/pending');
		} catch (e) {
			el.hidden = true;	// not there, or not allowed
			return;
		}
		const list = r.pending || [];
		const sig = JSON.stringify(list);
		if (sig === last || el.contains(document.activeElement) &&
		    document.activeElement.tagName === 'INPUT')
			return;
		last = sig;
		el.hidden = list.length === 0;
		count.textContent = '(' + list.length + ')';
		const me = session.me ? session.me.name : '';
		fill(body, list.length ? table(['th_colour', 'th_event',
		    'th_headline', 'th_area', 'th_submitted_by', 'th_action'],
		    list.map((p) => {
			const own = p.created_by === me ||
			    p.created_by.split('/')[0] === me;
			const reason = h('input', { class: 'reason',
			    maxlength: 500, placeholder_i18n:
			    'reject_reason' });
			return h('tr', { 'data-pending': p.id },
			    h('td', null, colourChip(p.colour)),
			    h('td', { text: p.event || '' }),
			    h('td', { text: p.headline || '' }),
			    h('td', { text: p.regions || '' }),
			    h('td', { text: p.created_by + ' · ' +
			    age(p.created) }),
			    h('td', null, !canAct() ? null : own ? h('span',
			    { class: 'muted', i18n: 'own_pending' }) : [
			    h('button', { type: 'button', class: 'approve',
			    i18n: 'approve', onclick: () => decide(p, true) }),
			    ' ', reason, h('button', { type: 'button',
			    class: 'danger reject', i18n: 'reject',
			    onclick: () => decide(p, false,
			    reason.value.trim()) })]));
		    })) : null);
	}
	return { el, refresh };
}

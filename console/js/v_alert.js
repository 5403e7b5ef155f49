// console/js/v_alert.js - one alert: its summary, the 叫应 tree city →
// county → township → village (targeted / reached / answered per node,
// coloured by 叫应率), who has not answered yet (with "record answer"),
// the answers, deliveries by channel with failures and their reasons,
// the chain Alert → Update → Cancel, and the original CAP.
//
// Every part is refreshed in place: the tree keeps the nodes the user
// opened or closed, the record-answer dialog is outside the refreshed
// parts, and the CAP is loaded once when first opened.
import { h, fill, T, t, pct, rateClass, fmtTime, table, label } from './dom.js';
import { get, post, session, canAct, ApiError } from './api.js';
import { colourChip, rateBadge } from './v_alerts.js';

const LEVEL_KEYS = { city: 'level_city', county: 'level_county',
    township: 'level_township', village: 'level_village',
    province: 'level_province' };

function counts(c) {
	return h('span', { class: 'counts' },
	    T('n_targeted', { n: c.targeted }), ' · ',
	    T('n_reached', { n: c.reached }), ' · ',
	    T('n_answered', { n: c.answered }));
}

export function alertView(id) {
	const base = '/api/v1/alerts/' + id;
	const opened = new Map();	// region code -> open?
	const head = h('div', { class: 'card', id: 'alert-head' });
	const totals = h('div', { class: 'totals', id: 'alert-totals' });
	const tree = h('div', { class: 'tree', id: 'tree' });
	const unanswered = h('div', { id: 'unanswered' });
	const ucount = h('span', { class: 'count', id: 'unanswered-count' });
	const answers = h('div', { id: 'answers' });
	const deliveries = h('div', { id: 'deliveries' });
	const chain = h('ol', { class: 'chain', id: 'chain' });
	const capPre = h('pre', { class: 'cap', id: 'cap-xml' });
	const capBox = h('details', { id: 'cap' },
	    h('summary', { i18n: 'cap_original' }), capPre);
	capBox.addEventListener('toggle', async () => {
		if (!capBox.open || capPre.textContent)
			return;
		try {
			capPre.textContent = await get(base + '/cap',
			    { raw: true });
		} catch (e) {
			capPre.textContent = t('error_msg', { msg: e.message });
		}
	});
	const dialog = recordDialog(id, () => refresh());

	const el = h('section', { class: 'alert' }, head,
	    h('section', { class: 'card' }, h('h2', { i18n: 'tree_title' }),
	    totals, tree),
	    h('section', { class: 'card' }, h('h2', null,
	    T('unanswered_title'), ' ', ucount), unanswered),
	    h('section', { class: 'card' }, h('h2', { i18n: 'answers_title' }),
	    answers),
	    h('section', { class: 'card' },
	    h('h2', { i18n: 'deliveries_title' }), deliveries),
	    h('section', { class: 'card' }, h('h2', { i18n: 'chain_title' }),
	    chain),
	    h('section', { class: 'card' }, capBox), dialog.el);

	function renderHead(a) {
		const act = canAct() && a.state === 'active';
		fill(head, h('div', { class: 'bar' },
		    h('h1', { id: 'alert-headline', text: a.headline ||
		    a.identifier }),
		    act ? h('span', { class: 'actions' },
		    h('a', { class: 'button', id: 'btn-update',
		    href: '#/issue?update=' + a.id, i18n: 'update' }),
		    h('a', { class: 'button danger', id: 'btn-cancel',
		    href: '#/issue?cancel=' + a.id, i18n: 'cancel_alert' })) :
		    null),
		    h('p', null, colourChip(a.colour), ' ',
		    h('span', { class: 'chip', id: 'alert-state',
		    i18n: 'state_' + a.state }), ' ',
		    h('span', { class: 'chip status-' + a.status,
		    i18n: 'status_' + a.status }), ' ',
		    h('span', { class: 'chip', text: a.msg_type })),
		    h('dl', { class: 'kv' },
		    h('dt', { i18n: 'th_event' }), h('dd', { text: a.event }),
		    h('dt', { i18n: 'th_area' }), h('dd', { text:
		    (a.target_regions || []).map((r) => r.name + ' (' +
		    r.code + ')').join('、') || '—' }),
		    h('dt', { i18n: 'sent' }), h('dd', { text: fmtTime(a.sent) }),
		    h('dt', { i18n: 'expires' }),
		    h('dd', { text: fmtTime(a.expires) }),
		    h('dt', { i18n: 'sender' }), h('dd', { text: a.sender }),
		    h('dt', { i18n: 'identifier' }),
		    h('dd', { text: a.identifier })));
	}

	function renderTree(rep) {
		const kids = new Map();
		const byCode = new Map();
		for (const r of rep.regions || []) {
			byCode.set(r.code, r);
			const p = r.parent && rep.regions.some((x) =>
			    x.code === r.parent) ? r.parent : '';
			if (!kids.has(p))
				kids.set(p, []);
			kids.get(p).push(r);
		}
		// Open down to the villages when there are few nodes, else
		// down to the townships (a city-wide alert has thousands).
		const openDepth = (rep.regions || []).length <= 200 ? 3 : 2;
		const node = (r) => {
			const c = r.subtree;
			const row = h('span', { class: 'node ' +
			    rateClass(c.rate), 'data-code': r.code },
			    h('span', { class: 'name', text: r.name || r.code }),
			    h('span', { class: 'level' },
			    label(LEVEL_KEYS[r.level], r.level)),
			    counts(c), rateBadge(c.rate));
			const ch = kids.get(r.code) || [];
			if (ch.length === 0)
				return h('li', null, h('div', { class: 'leaf' },
				    row));
			if (!opened.has(r.code))
				opened.set(r.code, r.depth < openDepth);
			const d = h('details', { open: opened.get(r.code) },
			    h('summary', null, row),
			    h('ul', null, ch.map(node)));
			d.addEventListener('toggle', () =>
			    opened.set(r.code, d.open));
			return h('li', null, d);
		};
		fill(tree, h('ul', null, (kids.get('') || []).map(node)));
		const x = rep.totals;
		fill(totals, counts(x), ' ', h('span', { class: 'rate-big ' +
		    rateClass(x.rate), id: 'total-rate', text: pct(x.rate) }),
		    x.unreachable ? h('span', { class: 'muted', i18n:
		    ['n_unreachable', { n: x.unreachable }] }) : null,
		    rep.escalated === false ? h('p', { class: 'muted',
		    i18n: 'not_escalated' }) : null);
		return byCode;
	}

	function renderUnanswered(u) {
		ucount.textContent = '(' + u.total + ')';
		if (!u.unanswered || u.unanswered.length === 0) {
			fill(unanswered, h('p', { class: 'muted', id:
			    'all-answered', i18n: 'all_answered' }));
			return;
		}
		const act = canAct();
		fill(unanswered, table(['th_name', 'th_role', 'th_phone',
		    'th_region', 'th_last_attempt', act ? 'th_action' :
		    'th_escalation'],
		    u.unanswered.map((p) => {
			const la = p.last_attempt;
			return h('tr', { 'data-responder': p.responder_id },
			    h('td', { text: p.name }),
			    h('td', null, label('role_' + p.role, p.role)),
			    h('td', null, p.phone ? h('a', { href: 'tel:' +
			    String(p.phone).replace(/[^0-9+]/g, ''),
			    text: p.phone }) : '—'),
			    h('td', { text: p.region ? p.region.name : '' }),
			    h('td', null, la ? [h('span', { text: la.channel +
			    ' · ' }), label('dstate_' +
			    la.state, la.state), h('span', { text: ' · ' +
			    fmtTime(la.at) }), la.error ? h('div', {
			    class: 'err', text: la.error }) : null] : '—'),
			    h('td', null, act ? h('button', { type: 'button',
			    class: 'record', 'data-responder': p.responder_id,
			    i18n: 'record_answer', onclick: () =>
			    dialog.open(p) }) : h('span', { text:
			    p.escalation ? p.escalation.state : '' })));
		    })), u.total > u.unanswered.length ? h('p', {
		    class: 'muted', i18n: ['n_more', { n: u.total -
		    u.unanswered.length }] }) : null);
	}

	function renderAnswers(x) {
		const list = x.answers || [];
		if (list.length === 0) {
			fill(answers, h('p', { class: 'muted', i18n: 'none' }));
			return;
		}
		fill(answers, table(['th_name', 'th_path', 'th_received',
		    'th_note', 'th_recorded_by'], list.slice(-200).reverse()
		    .map((a) => h('tr', { 'data-responder': a.responder_id },
		    h('td', { text: a.name || a.responder_id }),
		    h('td', null, label('path_' + a.path, a.path)),
		    h('td', { text: fmtTime(a.received) +
		    (a.late ? ' ' + t('late') : '') }),
		    h('td', { text: [a.reason, a.note].filter(Boolean)
		    .join(' — ') }),
		    h('td', { text: a.recorded_by || '' })))));
	}

	function renderDeliveries(d, failed) {
		const by = (d.counts && d.counts.by_channel) || {};
		const states = new Set();
		for (const c of Object.values(by))
			for (const s of Object.keys(c))
				states.add(s);
		const st = [...states].sort();
		const tbl = h('div', { class: 'tablewrap' }, h('table', null,
		    h('thead', null, h('tr', null, h('th', { i18n:
		    'th_channel' }), st.map((s) => h('th', null,
		    label('dstate_' + s, s))))),
		    h('tbody', null, Object.entries(by).map(([ch, c]) =>
		    h('tr', { 'data-channel': ch }, h('th', { text: ch }),
		    st.map((s) => h('td', { class: s === 'failed' &&
		    c[s] ? 'err' : '', text: c[s] || 0 })))))));
		const f = failed.deliveries || [];
		fill(deliveries, Object.keys(by).length ? tbl : h('p', {
		    class: 'muted', i18n: 'none' }),
		    h('h3', null, T('failures'), ' (' + (failed.total || 0) +
		    ')'),
		    f.length ? table(['th_channel', 'th_recipient',
		    'th_address', 'th_attempts', 'th_reason'], f.map((x) =>
		    h('tr', null, h('td', { text: x.channel }),
		    h('td', { text: x.recipient }),
		    h('td', { text: x.address || '' }),
		    h('td', { text: x.attempts }),
		    h('td', { class: 'err', text: x.last_error || '' })))) :
		    h('p', { class: 'muted', i18n: 'no_failures' }));
	}

	function renderChain(c) {
		fill(chain, (c.alerts || []).map((a) => h('li', {
		    class: a.id === id ? 'here' : '' },
		    h('span', { class: 'chip', text: a.msg_type }), ' ',
		    a.id === id ? h('strong', { text: a.headline ||
		    a.identifier }) : h('a', { href: '#/alert/' + a.id,
		    text: a.headline || a.identifier }), ' ',
		    h('span', { class: 'muted small', text: fmtTime(a.sent) +
		    ' · ' }), h('span', { class: 'muted small',
		    i18n: 'state_' + a.state }))));
	}

	async function refresh() {
		const [a, rep, un, ans, dl, failed, ch] = await Promise.all([
		    get(base), get(base + '/report'),
		    get(base + '/unanswered?limit=500'),
		    get(base + '/answers').catch(() => ({ answers: [] })),
		    get(base + '/deliveries?limit=1'),
		    get(base + '/deliveries?state=failed&limit=50'),
		    get(base + '/chain')]);
		renderHead(a.alert);
		renderTree(rep);
		renderUnanswered(un);
		renderAnswers(ans);
		renderDeliveries(dl, failed);
		renderChain(ch);
	}
	return { el, refresh, stop: () => dialog.close() };
}

// The "record answer (reached by phone)" dialog.
function recordDialog(alertId, after) {
	let who = null;
	const name = h('strong', { id: 'record-name' });
	const reason = h('input', { id: 'record-reason', required: true,
	    maxlength: 200 });
	const note = h('input', { id: 'record-note', maxlength: 500 });
	const by = h('input', { id: 'record-by', maxlength: 100,
	    value: localStorage.getItem('gong.operator') || '' });
	const byRow = h('label', null, T('recorded_by_name'), by);
	const msg = h('p', { class: 'msg', id: 'record-msg', role: 'alert' });
	const ok = h('button', { type: 'submit', id: 'record-confirm',
	    i18n: 'record_confirm' });
	const form = h('form', { method: 'dialog' },
	    h('h2', { i18n: 'record_title' }), h('p', null, name),
	    h('label', null, T('reason'), reason),
	    h('label', null, T('note'), note), byRow,
	    h('div', { class: 'buttons' }, ok, h('button', { type: 'button',
	    class: 'secondary', i18n: 'close', onclick: () => close() })),
	    msg);
	const el = h('dialog', { id: 'record-dialog' }, form);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		if (!who)
			return;
		ok.disabled = true;
		fill(msg);
		const body = { responder_id: who.responder_id,
		    reason: reason.value.trim() };
		if (note.value.trim())
			body.note = note.value.trim();
		if (session.me && session.me.kind !== 'user') {
			body.by = by.value.trim();
			localStorage.setItem('gong.operator', body.by);
		}
		try {
			await post('/api/v1/alerts/' + alertId + '/answers', body);
			close();
			after();
		} catch (e) {
			fill(msg, e instanceof ApiError && e.status === 403 ?
			    T('forbidden', { msg: e.message }) :
			    T('error_msg', { msg: e.message }));
		} finally {
			ok.disabled = false;
		}
	});
	function open(p) {
		who = p;
		name.textContent = p.name + ' · ' + (p.phone || '') + ' · ' +
		    (p.region ? p.region.name : '');
		const d = new Date();
		reason.value = t('reached_by_phone', { time:
		    String(d.getHours()).padStart(2, '0') + ':' +
		    String(d.getMinutes()).padStart(2, '0') });
		note.value = '';
		byRow.hidden = !(session.me && session.me.kind !== 'user');
		fill(msg);
		if (!el.open)
			el.showModal();
	}
	function close() {
		who = null;
		if (el.open)
			el.close();
	}
	return { el, open, close };
}

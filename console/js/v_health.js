// console/js/v_health.js - channel health from /metrics: each channel's
// state (gong_channel_up), queue depth, requests in flight, circuit
// breaker, errors (failed of sent+failed since start, and during the
// last few seconds), the engine's own lines (store, escalations), and
// the sirens and loudspeakers the channels know to be offline
// (gong_device_offline: an MQTT controller's last will).
import { h, fill, T, table } from './dom.js';
import { get, parseMetrics } from './api.js';

export function healthView() {
	const chans = h('div', { id: 'channels' });
	const engine = h('div', { id: 'engine' });
	const sirens = h('div', { id: 'sirens' });
	const el = h('section', { class: 'health' },
	    h('section', { class: 'card' }, h('h1', { i18n: 'health_title' }),
	    chans),
	    h('section', { class: 'card' }, h('h2', { i18n: 'engine_title' }),
	    engine),
	    h('section', { class: 'card' }, h('h2', { i18n: 'sirens_title' }),
	    sirens));
	let prev = null;

	async function refresh() {
		const ms = parseMetrics(await get('/metrics', { raw: true }));
		const by = new Map();
		const one = {};
		const off = [];
		for (const m of ms) {
			if (m.name === 'gong_device_offline' && m.value === 1) {
				off.push(m.labels);
				continue;
			}
			const ch = m.labels.channel;
			if (m.name.startsWith('gong_channel_') && ch) {
				if (!by.has(ch))
					by.set(ch, { name: ch });
				const x = by.get(ch);
				const k = m.name.slice('gong_channel_'.length);
				if (k.startsWith('send_latency'))
					continue;
				x[k] = m.value;
				if (m.labels.type)
					x.type = m.labels.type;
			} else if (!Object.keys(m.labels).length)
				one[m.name] = m.value;
		}
		const now = {};
		const rows = [...by.values()].sort((a, b) =>
		    a.name.localeCompare(b.name)).map((x) => {
			const sent = x.sent_total || 0;
			const failed = x.failed_total || 0;
			now[x.name] = { sent, failed };
			const p = prev && prev[x.name];
			const dSent = p ? sent - p.sent : 0;
			const dFail = p ? failed - p.failed : 0;
			const rate = sent + failed > 0 ?
			    failed / (sent + failed) : null;
			const up = x.up === undefined ? null : x.up === 1;
			const brk = x.breaker_open === 1;
			return h('tr', { 'data-channel': x.name,
			    class: up === false || brk ? 'bad' : 'good' },
			    h('th', { text: x.name }),
			    h('td', { text: x.type || '' }),
			    h('td', null, h('span', { class: 'chip ' +
			    (up === null ? '' : up ? 'ok' : 'down'),
			    i18n: up === null ? 'unknown' : up ? 'up' :
			    'down' })),
			    h('td', { text: x.queue_depth ?? '—' }),
			    h('td', { text: x.in_flight ?? '—' }),
			    h('td', null, h('span', { class: 'chip ' +
			    (brk ? 'down' : 'ok'), i18n: brk ? 'breaker_open' :
			    'breaker_closed' }), x.breaker_trips_total ?
			    h('span', { class: 'muted small', text: ' ×' +
			    x.breaker_trips_total }) : null),
			    h('td', { text: sent + ' / ' +
			    (x.delivered_total || 0) }),
			    h('td', { class: failed ? 'err' : '', text: failed +
			    (rate !== null ? ' (' + (rate * 100).toFixed(1) +
			    '%)' : '') }),
			    h('td', { class: dFail ? 'err' : '', text: p ?
			    '+' + dSent + ' / +' + dFail : '—' }),
			    h('td', { text: x.retries_total || 0 }));
		    });
		prev = now;
		fill(chans, rows.length ? table(['th_channel', 'th_type',
		    'th_state', 'th_queue', 'th_in_flight', 'th_breaker',
		    'th_sent_delivered', 'th_failed', 'th_recent',
		    'th_retries'], rows) : h('p', { class: 'muted',
		    i18n: 'no_channels' }));
		const kv = [['gong_store_up', 'm_store_up'],
		    ['gong_uptime_seconds', 'm_uptime'],
		    ['gong_regions', 'm_regions'],
		    ['gong_responders', 'm_responders'],
		    ['gong_devices', 'm_devices'],
		    ['gong_escalation_open', 'm_escalation_open']];
		fill(engine, h('dl', { class: 'kv' }, kv.filter(([k]) =>
		    one[k] !== undefined).map(([k, key]) => [h('dt',
		    { i18n: key }), k === 'gong_store_up' ? h('dd', null,
		    h('span', { class: 'chip ' + (one[k] === 1 ? 'ok' : 'down'),
		    i18n: one[k] === 1 ? 'up' : 'down' })) :
		    h('dd', { text: one[k] })])));
		off.sort((a, b) => (a.address || '').localeCompare(b.address ||
		    ''));
		fill(sirens, off.length ? table(['th_device_address',
		    'th_channel'], off.map((x) => h('tr',
		    { 'data-offline': x.address, class: 'bad' },
		    h('td', { text: x.address }),
		    h('td', { text: x.channel })))) : h('p',
		    { class: 'muted', i18n: 'sirens_none' }));
	}
	return { el, refresh };
}

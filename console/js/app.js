// console/js/app.js - the console's frame: language, who is logged in,
// the navigation, the hash routes and the polling.
//
// Routes: #/login, #/alerts, #/alert/{id}, #/issue[?update=ID|cancel=ID],
// #/health, #/audit.  A view is an object {el, refresh(), stop()}; while
// it is shown its refresh() runs every POLL_MS (not while the tab is
// hidden, never two at once).  refresh() updates the parts of the view
// that show data in place, so the scroll position, the open tree nodes,
// the dialogs and whatever is typed in a form stay as they are.
import { h, fill, t, T, setT, loadLang, currentLang, retranslate }
    from './dom.js';
import { session, api, whoami } from './api.js';
import { loginView } from './v_login.js';
import { alertsView } from './v_alerts.js';
import { alertView } from './v_alert.js';
import { issueView } from './v_issue.js';
import { healthView } from './v_health.js';
import { auditView } from './v_audit.js';

const POLL_MS = 3000;
let current = null;		// the view shown
let busy = false;
let lastOk = null;
let wanted = null;	// the page asked for before logging in
let failing = false;	// the banner says a refresh failed

const routes = [
	[/^#\/login$/, () => loginView(afterLogin)],
	[/^#\/alerts$/, () => alertsView()],
	[/^#\/alert\/(\d+)$/, (m) => alertView(Number(m[1]))],
	[/^#\/issue(?:\?(.*))?$/, (m) => issueView(new URLSearchParams(
	    m[1] || ''))],
	[/^#\/health$/, () => healthView()],
	[/^#\/audit$/, () => auditView()],
];

export function banner(key, args, kind) {
	const b = document.getElementById('banner');
	if (!key) {
		fill(b);
		b.className = '';
		return;
	}
	fill(b, T(key, args));
	b.className = kind || 'info';
}

function renderTop() {
	const nav = document.getElementById('nav');
	const who = document.getElementById('who');
	const me = session.me;
	fill(nav);
	fill(who);
	setT(document.getElementById('brand'), 'brand');
	if (!me)
		return;
	const link = (href, key) => h('a', { href, i18n: key,
	    'data-nav': href });
	fill(nav, link('#/alerts', 'nav_alerts'), link('#/issue', 'nav_issue'),
	    link('#/health', 'nav_health'), link('#/audit', 'nav_audit'));
	fill(who, h('span', { class: 'me', id: 'me-name', text: me.name }),
	    ' ', h('span', { class: 'muted', i18n: 'role_' + me.role }),
	    me.jurisdiction ? h('span', { class: 'muted',
	    text: ' · ' + me.jurisdiction }) : null, ' ',
	    h('button', { type: 'button', class: 'linkish', id: 'logout',
	    i18n: 'logout', onclick: logout }));
	markNav();
}

function markNav() {
	for (const a of document.querySelectorAll('#nav a'))
		a.classList.toggle('on', location.hash.startsWith(
		    a.getAttribute('href')));
}

async function logout() {
	try {
		if (!session.token)
			await api('POST', '/api/v1/logout', { body: {},
			    quiet401: true });
	} catch (e) {
		// the session is gone either way
	}
	session.token = null;
	sessionStorage.removeItem('gong.token');
	session.me = null;
	session.csrf = null;
	renderTop();
	location.hash = '#/login';
}

async function afterLogin() {
	await whoami();
	renderTop();
	location.hash = wanted && wanted !== '#/login' ? wanted : '#/alerts';
	wanted = null;
}

function show() {
	const hash = location.hash || '#/alerts';
	if (!session.me && hash !== '#/login') {
		wanted = hash;	// back there after logging in
		location.hash = '#/login';
		return;
	}
	if (current && current.stop)
		current.stop();
	current = null;
	banner(null);
	let view = null;
	for (const [re, make] of routes) {
		const m = re.exec(hash);
		if (m) {
			view = make(m);
			break;
		}
	}
	if (!view) {
		location.hash = '#/alerts';
		return;
	}
	current = view;
	fill(document.getElementById('view'), view.el);
	window.scrollTo(0, 0);
	markNav();
	tick();
}

async function tick() {
	const v = current;
	if (!v || !v.refresh || busy || document.hidden)
		return;
	busy = true;
	try {
		await v.refresh();
		lastOk = new Date();
		if (failing && v === current)
			banner(null);
		failing = false;
		if (v === current)
			setT(document.getElementById('updated'), 'updated_at',
			    { time: lastOk.toLocaleTimeString(
			    currentLang() === 'en' ? 'en-GB' : 'zh-CN',
			    { hour12: false }) });
	} catch (e) {
		if (v === current && e.status !== 401) {
			banner('refresh_failed', { msg: e.message }, 'error');
			failing = true;
		}
	} finally {
		busy = false;
	}
}

async function switchLang() {
	const l = currentLang() === 'en' ? 'zh-CN' : 'en';
	await loadLang(l);
	localStorage.setItem('gong.lang', l);
	document.getElementById('lang').textContent = t('lang_other');
	document.title = t('title');
	retranslate(document);
	if (current && current.relabel)
		current.relabel();
}

async function main() {
	try {
		await loadLang(localStorage.getItem('gong.lang') || 'zh-CN');
	} catch (e) {
		await loadLang('zh-CN');
	}
	document.title = t('title');
	const lb = document.getElementById('lang');
	lb.textContent = t('lang_other');
	lb.addEventListener('click', switchLang);
	session.onUnauthorized = () => {
		session.me = null;
		renderTop();
		if (location.hash !== '#/login') {
			wanted = location.hash;
			banner('session_ended', null, 'error');
			location.hash = '#/login';
		}
	};
	try {
		await whoami();
	} catch (e) {
		banner('server_unreachable', { msg: e.message }, 'error');
	}
	renderTop();
	window.addEventListener('hashchange', show);
	document.addEventListener('visibilitychange', tick);
	setInterval(tick, POLL_MS);
	show();
}

main();

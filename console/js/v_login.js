// console/js/v_login.js - log in with name and password (a console
// session), or, for operators, with an API token.
import { h, fill, T } from './dom.js';
import { session, post, setToken, whoami, ApiError } from './api.js';

export function loginView(done) {
	const msg = h('p', { class: 'msg', id: 'login-msg', role: 'alert' });
	const name = h('input', { id: 'login-name', name: 'name',
	    autocomplete: 'username', required: true, maxlength: 64 });
	const pw = h('input', { id: 'login-password', name: 'password',
	    type: 'password', autocomplete: 'current-password',
	    required: true, maxlength: 1024 });
	const btn = h('button', { type: 'submit', id: 'login-submit',
	    i18n: 'login' });
	const form = h('form', { class: 'card narrow', id: 'login-form' },
	    h('h1', { i18n: 'login_title' }),
	    h('label', null, T('user_name'), name),
	    h('label', null, T('password'), pw), btn, msg);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		btn.disabled = true;
		fill(msg);
		setToken(null);
		try {
			const r = await post('/api/v1/login', { name: name.value,
			    password: pw.value }, { quiet401: true });
			session.csrf = r.csrf;
			pw.value = '';
			await done();
		} catch (e) {
			pw.value = '';
			if (e instanceof ApiError && e.missing)
				fill(msg, T('login_unavailable'));
			else if (e.status === 401)
				fill(msg, T('bad_credentials'));
			else if (e.status === 429)
				fill(msg, T('too_many_logins', {
				    s: e.body && e.body.retry_after }));
			else
				fill(msg, T('error_msg', { msg: e.message }));
		} finally {
			btn.disabled = false;
		}
	});

	const tok = h('input', { id: 'login-token', type: 'password',
	    autocomplete: 'off', maxlength: 200 });
	const tmsg = h('p', { class: 'msg', role: 'alert' });
	const tform = h('form', { class: 'card narrow', id: 'token-form' },
	    h('details', null, h('summary', { i18n: 'token_login' }),
	    h('p', { class: 'muted', i18n: 'token_help' }),
	    h('label', null, T('api_token'), tok),
	    h('button', { type: 'submit', i18n: 'use_token' }), tmsg));
	tform.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		fill(tmsg);
		setToken(tok.value.trim());
		tok.value = '';
		try {
			if (await whoami())
				await done();
			else {
				setToken(null);
				fill(tmsg, T('bad_token'));
			}
		} catch (e) {
			setToken(null);
			fill(tmsg, T('error_msg', { msg: e.message }));
		}
	});
	const el = h('section', { class: 'login' }, form, tform);
	setTimeout(() => name.focus(), 0);
	return { el };
}

import { api, saveCredential } from '../api.js';
import { h, replace } from '../dom.js';

/**
 * The sign-in form: the analyst pastes an API key or an OIDC access token; `GET /v1/me` checks it before it is kept.
 * @param {HTMLElement} main
 * @param {(me: import('../state.js').Me) => void} onSignedIn
 * @param {string} [notice] shown above the form (e.g. "your session expired")
 */
export function renderLogin(main, onSignedIn, notice) {
  const input = h('input', {
    id: 'credential',
    name: 'credential',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'credential-help',
  });
  const error = h('p', { class: 'form-error', id: 'login-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login-card', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'mesh', h('span', null, 'ward'), ' console'),
    notice ? h('p', { class: 'notice' }, notice) : null,
    h('label', { for: 'credential', class: 'field-label' }, 'API key or access token'),
    input,
    h(
      'p',
      { id: 'credential-help', class: 'muted small' },
      'Kept in this tab only (session storage) and sent with each request. A JWT goes out as a bearer token, anything else as X-API-Key.',
    ),
    error,
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    submit.disabled = true;
    error.textContent = '';
    try {
      const me = await api('v1/me', { cred: value });
      saveCredential(value);
      onSignedIn(me);
    } catch (err) {
      const status = /** @type {{ status?: number }} */ (err).status;
      error.textContent =
        status === 401
          ? 'That key or token was refused. Check it and try again.'
          : status === 403
            ? 'That credential has no console role.'
            : `Cannot reach the API (${/** @type {Error} */ (err).message}).`;
      input.select();
    } finally {
      submit.disabled = false;
    }
  });
  replace(main, h('div', { class: 'login' }, form));
  input.focus();
}

// Verstak Sync Server pages: dialogs and confirmations (<dialog>.showModal(), not the
// browser confirm box) and the one-time password reveal. Loaded from /static/app.js; the CSP
// allows no inline script or event attributes, so everything is wired here.
(function () {
  'use strict';

  function onReady(fn) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn);
    else fn();
  }

  onReady(function () {
    // Management dialogs: [data-dialog-open="<id>"] opens <dialog id="<id>">, [data-dialog-close] closes.
    document.querySelectorAll('[data-dialog-open]').forEach(function (btn) {
      btn.addEventListener('click', function () {
        var d = document.getElementById(btn.getAttribute('data-dialog-open'));
        if (d && typeof d.showModal === 'function') d.showModal();
      });
    });
    document.querySelectorAll('[data-dialog-close]').forEach(function (btn) {
      btn.addEventListener('click', function () {
        var d = btn.closest('dialog');
        if (d) d.close();
      });
    });

    // A form with data-confirm, or the submit button pressed with data-confirm, asks through
    // the shared #confirm-dialog before submitting; a form without either (a harmless action
    // such as "Confirm email") submits at once. The OK button is red only for a button with
    // class "danger" or a form-level question (the user's own device revoke).
    var confirmDialog = document.getElementById('confirm-dialog');
    Array.prototype.filter.call(document.querySelectorAll('form'), function (f) {
      return f.hasAttribute('data-confirm') || f.querySelector('button[data-confirm]');
    }).forEach(function (form) {
      form.addEventListener('submit', function (ev) {
        if (form.dataset.confirmed === '1' || !confirmDialog) return;
        var submitter = ev.submitter || null;
        var asked = submitter && submitter.hasAttribute('data-confirm') ? submitter : null;
        var text = asked ? asked.getAttribute('data-confirm') : form.getAttribute('data-confirm');
        if (!text) return;
        ev.preventDefault();
        var danger = asked ? asked.classList.contains('danger') : true;
        confirmDialog.querySelector('button[value="ok"]').classList.toggle('danger', danger);
        confirmDialog.querySelector('.confirm-text').textContent = text;
        confirmDialog.returnValue = '';
        confirmDialog.addEventListener('close', function once() {
          confirmDialog.removeEventListener('close', once);
          if (confirmDialog.returnValue !== 'ok') return;
          form.dataset.confirmed = '1';
          if (submitter && submitter.name) {
            var h = document.createElement('input');
            h.type = 'hidden';
            h.name = submitter.name;
            h.value = submitter.value;
            form.appendChild(h);
          }
          form.submit();
        });
        confirmDialog.showModal();
      });
    });

    // The one-time password page: POST to the secret URL with the CSRF header, show it once.
    var holder = document.querySelector('[data-one-time-secret-url]');
    if (holder) {
      var button = holder.querySelector('button');
      var out = holder.querySelector('.secret');
      button.addEventListener('click', function () {
        button.disabled = true;
        fetch(holder.getAttribute('data-one-time-secret-url'), {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'X-CSRF-Token': holder.getAttribute('data-csrf-token') || '' },
        })
          .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
          .then(function (res) {
            out.textContent = res.ok ? res.body.password : res.body.error;
            out.classList.remove('hidden');
          })
          .catch(function () { button.disabled = false; });
      });
    }
  });
})();

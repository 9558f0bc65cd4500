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

    // Forms with data-confirm ask through the shared #confirm-dialog before submitting.
    var confirmDialog = document.getElementById('confirm-dialog');
    document.querySelectorAll('form[data-confirm]').forEach(function (form) {
      form.addEventListener('submit', function (ev) {
        if (form.dataset.confirmed === '1' || !confirmDialog) return;
        ev.preventDefault();
        var submitter = ev.submitter || null;
        confirmDialog.querySelector('.confirm-text').textContent = form.getAttribute('data-confirm');
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

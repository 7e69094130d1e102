// The dashboard of `ductape serve` (GET /): one HTML page and one script, no build step and no dependencies. Its data
// comes from the same /v1 API with an admin key the page asks for once (kept in sessionStorage, never in a URL).
// Every value from the API is written with textContent, never as HTML: upstream text can hold markup.

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ductape</title>
<link rel="icon" href="data:,">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
  header { display: flex; gap: 16px; align-items: center; padding: 10px 20px; background: #1d2330; color: #fff; }
  header h1 { font-size: 16px; margin: 0 16px 0 0; }
  nav button { background: none; border: 0; color: #c9d1e0; font: inherit; cursor: pointer; padding: 4px 8px; }
  nav button.active { color: #fff; border-bottom: 2px solid #6ea8fe; }
  #who { margin-left: auto; font-size: 12px; color: #c9d1e0; }
  main { padding: 16px 20px; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e3e6eb; vertical-align: top; }
  th { font-weight: 600; background: #eef0f4; }
  tr.click { cursor: pointer; } tr.click:hover { background: #f0f5ff; }
  .err { color: #b42318; } .ok { color: #067647; }
  .muted { color: #667085; }
  pre { background: #fff; border: 1px solid #e3e6eb; padding: 10px; overflow: auto; max-height: 60vh; }
  .cols { display: grid; grid-template-columns: minmax(260px, 1fr) 2fr; gap: 16px; }
  .cols.logs { grid-template-columns: 3fr 2fr; }
  .cols > div { min-width: 0; overflow: auto; }
  form.filters { display: flex; gap: 8px; flex-wrap: wrap; margin-bottom: 10px; }
  input, select, button.primary { font: inherit; padding: 4px 6px; }
  #login { max-width: 420px; margin: 60px auto; background: #fff; padding: 20px; border: 1px solid #e3e6eb; }
  #login input { width: 100%; box-sizing: border-box; margin: 8px 0; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; background: #fff; padding: 10px; border: 1px solid #e3e6eb; }
  dt { font-weight: 600; } dd { margin: 0; word-break: break-all; }
  h2 { font-size: 15px; margin: 16px 0 8px; }
</style>
</head>
<body>
<header><h1>Ductape</h1><nav id="nav"></nav><span id="who"></span></header>
<main id="main"></main>
<script src="/dashboard.js"></script>
</body>
</html>
`;

export const DASHBOARD_JS = String.raw`'use strict';
(function () {
  var KEY = 'ductape.adminKey';
  var main = document.getElementById('main');
  var nav = document.getElementById('nav');
  var who = document.getElementById('who');
  var timer = null;
  var view = 'apps';

  // h('td', { className: 'x' }, 'text', child…): DOM nodes; strings become text nodes, never markup.
  function h(tag, props) {
    var el = document.createElement(tag);
    for (var k in props || {}) {
      if (k === 'onclick' || k === 'onsubmit' || k === 'onchange') el[k] = props[k];
      else if (k === 'className') el.className = props[k];
      else el.setAttribute(k, props[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
  function table(cols, rows, onRow) {
    var head = h('tr', null);
    cols.forEach(function (c) { head.appendChild(h('th', null, c[0])); });
    var body = h('tbody', null);
    rows.forEach(function (r) {
      var tr = h('tr', onRow ? { className: 'click', onclick: function () { onRow(r, tr); } } : null);
      cols.forEach(function (c) { var v = c[1](r); tr.appendChild(h('td', null, v)); });
      body.appendChild(tr);
    });
    if (!rows.length) body.appendChild(h('tr', null, h('td', { colspan: String(cols.length), className: 'muted' }, '(none)')));
    return h('table', null, h('thead', null, head), body);
  }

  // Answers that are not ductape serve's JSON (a load balancer's 502 page while processes restart, a dropped
  // connection) are said in words: the browser's own 'Failed to fetch' or 'Unexpected token <' told the operator nothing.
  var NOT_JSON = {};
  function api(path) {
    return fetch(path, { headers: { authorization: 'Bearer ' + sessionStorage.getItem(KEY) } }).catch(function () {
      throw new Error('No answer from the server for ' + path + ': is ductape serve running and reachable?');
    }).then(function (res) {
      return res.json().catch(function () { return NOT_JSON; }).then(function (body) {
        var error = body && body.error;
        if (res.status === 401) { sessionStorage.removeItem(KEY); login('That key was refused' + (error ? ': ' + error.message : ' (HTTP 401).')); throw new Error('unauthorized'); }
        // Every call of the page is an admin one: a run key was kept, and refused again in every view and every 2 s.
        if (res.status === 403 && error) { sessionStorage.removeItem(KEY); login('The dashboard needs an admin key: ' + error.message); throw new Error('unauthorized'); }
        if (!res.ok && error) throw new Error(error.code + ': ' + error.message);
        if (!res.ok || body === NOT_JSON) throw new Error('HTTP ' + res.status + ' ' + res.statusText + ' for ' + path + ', not an answer of ductape serve (a proxy in between?). Try again shortly.');
        return body;
      });
    });
  }
  function failed(where) { return function (err) { if (err.message !== 'unauthorized' && err.message !== 'superseded') clear(where).appendChild(h('p', { className: 'err' }, err.message)); }; }
  // The answer of the latest request for a part of the page, or a 'superseded' rejection: the operator may click
  // another app, action or filter before an earlier answer arrives, and that late answer must not land under the
  // later heading (or replace a newer list of runs).
  var latest = {};
  function apiFor(part, path) {
    var ticket = {};
    latest[part] = ticket;
    return api(path).then(function (body) {
      if (latest[part] !== ticket) throw new Error('superseded');
      return body;
    });
  }

  function login(message) {
    stop();
    clear(nav); who.textContent = '';
    var input = h('input', { type: 'password', name: 'key', placeholder: 'dtk_…', autocomplete: 'off', 'aria-label': 'admin key' });
    clear(main).appendChild(h('form', { id: 'login', onsubmit: function (e) {
      e.preventDefault();
      sessionStorage.setItem(KEY, input.value.trim());
      start();
    } }, h('h2', null, 'Admin key'), h('p', { className: 'muted' }, 'Create one with: ductape keys create --name dashboard --role admin'),
      message ? h('p', { className: 'err' }, message) : null, input, h('button', { className: 'primary', type: 'submit' }, 'Open')));
    input.focus();
  }

  function start() {
    clear(nav);
    [['apps', 'Apps'], ['products', 'Products'], ['logs', 'Run logs']].forEach(function (v) {
      nav.appendChild(h('button', { className: v[0] === view ? 'active' : '', 'data-view': v[0], onclick: function () { show(v[0]); } }, v[1]));
    });
    who.appendChild(h('button', { className: 'primary', onclick: function () { sessionStorage.removeItem(KEY); login(); } }, 'Forget key'));
    show(view);
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; } }
  function show(v) {
    stop();
    view = v;
    Array.prototype.forEach.call(nav.children, function (b) { b.className = b.getAttribute('data-view') === v ? 'active' : ''; });
    clear(main);
    if (v === 'apps') showApps(); else if (v === 'products') showProducts(); else showLogs();
  }

  function showApps() {
    var left = h('div', null, h('p', { className: 'muted' }, 'Loading…'));
    var right = h('div', { id: 'app-detail' });
    main.appendChild(h('div', { className: 'cols' }, left, right));
    api('/v1/apps').then(function (apps) {
      clear(left).appendChild(h('h2', null, 'Apps'));
      left.appendChild(table([['App', function (a) { return a.tag; }], ['Name', function (a) { return a.name; }], ['Envs', function (a) { return a.envs.join(', '); }], ['Actions', function (a) { return a.actions; }]], apps, function (a) { showActions(a.tag, right); }));
    }).catch(failed(left));
  }
  function showActions(app, where) {
    clear(where).appendChild(h('h2', null, 'Actions of ' + app));
    var schema = h('div', { id: 'action-schema' });
    apiFor('actions', '/v1/apps/' + encodeURIComponent(app) + '/actions').then(function (actions) {
      where.appendChild(table([['Event', function (a) { return a.event; }], ['Method', function (a) { return a.method; }], ['Path', function (a) { return a.path; }], ['Summary', function (a) { return a.summary || ''; }]], actions, function (a) {
        clear(schema).appendChild(h('h2', null, 'Input of ' + a.event));
        apiFor('schema', '/v1/apps/' + encodeURIComponent(app) + '/actions/' + encodeURIComponent(a.event) + '/schema').then(function (s) {
          schema.appendChild(h('pre', null, JSON.stringify(s, null, 2)));
          // It comes after the list of actions: with an imported API's hundreds, it was far below the row clicked.
          schema.scrollIntoView({ block: 'start' });
        }).catch(failed(schema));
      }));
      where.appendChild(schema);
    }).catch(failed(where));
  }

  function showProducts() {
    var box = h('div', null, h('p', { className: 'muted' }, 'Loading…'));
    main.appendChild(box);
    api('/v1/products').then(function (products) {
      clear(box).appendChild(h('h2', null, 'Products'));
      box.appendChild(table([
        ['Product', function (p) { return p.tag; }],
        ['Envs', function (p) { return p.envs.join(', '); }],
        ['Connections (access tag → app)', function (p) { return Object.keys(p.connections).map(function (t) { return t + ' → ' + p.connections[t].app; }).join(', ') || '-'; }],
        ['Caches', function (p) { return Object.keys(p.caches || {}).map(function (t) { return t + ' (' + p.caches[t].expiry_ms + ' ms)'; }).join(', ') || '-'; }],
      ], products));
      box.appendChild(h('p', { className: 'muted' }, 'Credentials are sealed in the store and never shown here.'));
    }).catch(failed(box));
  }

  function showLogs() {
    var fields = {};
    var form = h('form', { className: 'filters', onsubmit: function (e) { e.preventDefault(); load(); } });
    [['product', 'product'], ['app', 'app (access tag)'], ['event', 'event'], ['since', 'since (UTC, 2026-12-06 09:00)']].forEach(function (f) {
      fields[f[0]] = h('input', { name: f[0], placeholder: f[1], 'aria-label': f[1] });
      form.appendChild(fields[f[0]]);
    });
    fields.status = h('select', { name: 'status', 'aria-label': 'status' }, h('option', { value: '' }, 'any status'), h('option', { value: 'ok' }, 'ok'), h('option', { value: 'error' }, 'error'));
    form.appendChild(fields.status);
    form.appendChild(h('button', { className: 'primary', type: 'submit' }, 'Filter'));
    var list = h('div', { id: 'log-list' });
    var detail = h('div', { id: 'log-detail' });
    main.appendChild(form);
    main.appendChild(h('div', { className: 'cols logs' }, list, detail));
    // What the list and the detail show, as JSON: a refresh that brings nothing new leaves the page alone, so text the
    // operator is selecting (to copy an error or a URL) is not wiped every 2 s.
    var listed = null;
    var selected = null;
    function pick(r) { selected = JSON.stringify(r); showRun(r, detail); }
    var loading = null;
    function load() {
      var q = ['limit=100'];
      for (var k in fields) if (fields[k].value) q.push(k + '=' + encodeURIComponent(k === 'since' ? utc(fields[k].value.trim()) : fields[k].value));
      var mine = loading = apiFor('logs', '/v1/logs?' + q.join('&')).then(function (rows) {
        var now = JSON.stringify(rows);
        if (now === listed) return;
        listed = now;
        clear(list).appendChild(table([
          ['Time (UTC)', function (r) { return r.time.replace('T', ' ').replace('Z', ''); }],
          ['Product', function (r) { return r.product + '/' + r.env; }],
          ['Action', function (r) { return r.app + '.' + r.event; }],
          ['Status', function (r) { return h('span', { className: r.ok ? 'ok' : 'err' }, r.status === null ? (r.errorCode || 'error') : r.status); }],
          ['ms', function (r) { return r.durationMs; }],
        ], rows, pick));
        var shown = selected && JSON.parse(selected);
        var again = shown && rows.filter(function (r) { return r.id === shown.id; })[0];
        if (again && JSON.stringify(again) !== selected) pick(again);
      }).catch(function (err) { listed = null; failed(list)(err); }).then(function () { if (loading === mine) loading = null; });
    }
    load();
    // Runs keep happening: refresh while this view is open. A poll waits for the one before it (a filter does not):
    // with a slow store, each answer would otherwise be superseded before it arrived and the list never shown.
    timer = setInterval(function () { if (!loading) load(); }, 2000);
  }
  // The list shows UTC, so a time typed (or copied from the list) without a zone means UTC too; the server would
  // read it in its own time zone, and a copied time then filtered out the very run it was copied from.
  function utc(since) {
    return /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(since) ? since.replace(' ', 'T') + 'Z' : since;
  }
  function showRun(r, where) {
    var rows = [['Run', r.id], ['Time', r.time], ['Actor', r.actor || ''], ['Product / env', r.product + ' / ' + r.env], ['App / event', r.app + ' / ' + r.event],
      ['Status', r.status === null ? '-' : r.status], ['Outcome', r.ok ? 'ok' : (r.errorCode || 'error')], ['Attempts', r.attempts], ['Cached', r.cached ? 'yes' : 'no'], ['Duration', r.durationMs + ' ms']];
    if (r.request) rows.push(['Request', r.request.method + ' ' + r.request.url]);
    if (r.response) rows.push(['Response', 'error' in r.response ? r.response.error : (r.response.status + ' ' + (r.response.contentType || ''))]);
    var dl = h('dl', { id: 'run-detail' });
    rows.forEach(function (x) { dl.appendChild(h('dt', null, x[0])); dl.appendChild(h('dd', null, x[1])); });
    clear(where).appendChild(h('h2', null, 'Run detail'));
    where.appendChild(dl);
  }

  if (sessionStorage.getItem(KEY)) start(); else login();
})();
`;

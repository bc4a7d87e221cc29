// The recorder's listener, added to every frame of every page (add_init_script),
// describe.js prepended. It reports what the person does through the binding
// __oaRecord: clicks (at pointerdown, before the page reacts), typing per field
// (once, when the person moves on), selects, checkboxes, keys such as Enter,
// scrolling. Typed secrets (password and card fields) are reported without
// their value: only which kind of secret it was.
(() => {
  if (window.__oaCapturing) return;
  window.__oaCapturing = true;
  const describe = __oaMakeDescribe();
  const now = () => performance.timeOrigin + performance.now();
  let cids = 0;
  const doc = Math.random().toString(36).slice(2, 10); // this document (ids restart in the next one)
  const post = (ev) => {
    try {
      window.__oaRecord(ev);
    } catch (e) { /* the binding is gone (page closing) */ }
  };
  // What the page shows once it has settled after an event (the page knows when;
  // the recorder may be busy with screenshots by then).
  const state = () => {
    const out = [];
    for (const h of document.querySelectorAll('h1,h2,[role=heading],[role=alert],[role=status],dialog[open] h2')) {
      const r = h.getBoundingClientRect();
      if (!r.height || !h.checkVisibility()) continue;
      const t = (h.textContent || '').replace(/\s+/g, ' ').trim();
      if (t && t.length < 120 && !out.includes(t)) out.push(t);
      if (out.length >= 12) break;
    }
    return { href: location.href, title: document.title, headings: out };
  };
  // The page's own fetches and XHRs in flight: what they bring back (a dialog, an
  // error) is part of what the event led to, however slow the site is today.
  let inflight = 0;
  const quietAgain = new Set();
  const ended = () => {
    inflight = Math.max(0, inflight - 1);
    if (!inflight) for (const again of [...quietAgain]) again();
  };
  const origFetch = window.fetch;
  if (origFetch) {
    window.fetch = function (...args) {
      inflight++;
      try {
        return origFetch.apply(this, args).finally(ended);
      } catch (e) { ended(); throw e; }
    };
  }
  const origSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    inflight++;
    this.addEventListener('loadend', ended, { once: true });
    try {
      return origSend.apply(this, args);
    } catch (e) { this.removeEventListener('loadend', ended); ended(); throw e; }
  };
  const settling = new Set();
  const settle = (cid) => {
    let timer = null;
    const done = () => {
      settling.delete(done);
      quietAgain.delete(rearm);
      obs.disconnect();
      clearTimeout(timer);
      clearTimeout(cap);
      post({ type: 'state', cid, doc, t: now(), ...state() });
    };
    // Settled: 150 ms without a DOM change and with no request of the page in flight.
    const quiet = () => { if (!inflight) done(); };
    const rearm = () => { clearTimeout(timer); timer = setTimeout(quiet, 150); };
    const obs = new MutationObserver(rearm);
    obs.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    timer = setTimeout(quiet, 150);
    const cap = setTimeout(done, 5000);
    settling.add(done);
    quietAgain.add(rearm);
  };
  // The page as the person saw it when they acted again is the state after the last event.
  const settleNow = () => { for (const done of [...settling]) done(); };
  const send = (ev) => {
    settleNow();
    ev.cid = ++cids;
    ev.doc = doc;
    ev.href = location.href;
    post(ev);
    settle(ev.cid);
  };
  if (window === window.top) {
    // A freshly loaded page reports itself once settled (the "after" of its navigation).
    const loaded = () => settle(0);
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', loaded, { once: true });
    else loaded();
  }
  const origin = (e) => {
    const p = e.composedPath ? e.composedPath() : [];
    return p.length && p[0].nodeType === 1 ? p[0] : e.target;
  };
  const NOT_TEXT = new Set(['checkbox', 'radio', 'submit', 'button', 'reset', 'image', 'file', 'range', 'color']);
  const isText = (el) => el && ((el.localName === 'input' && !NOT_TEXT.has(el.type))
    || el.localName === 'textarea' || el.isContentEditable);
  const isToggle = (el) => el && el.localName === 'input' && (el.type === 'checkbox' || el.type === 'radio');
  const ACTIONABLE = 'a[href],button,input,select,textarea,label,summary,[role=button],[role=link],'
    + '[role=option],[role=menuitem],[role=tab],[role=checkbox],[role=radio],[role=switch],[role=combobox],'
    + '[role=treeitem],[onclick],[tabindex]';
  const KEYS = new Set(['Enter', 'Escape', 'ArrowDown', 'ArrowUp', 'PageDown', 'PageUp']);
  const TEXT_KEYS = new Set(['Enter', 'Escape', 'ArrowDown', 'ArrowUp']);

  // Typing is reported per field: started when the first input arrives, sent when
  // the person moves on (another click, Enter, leaving the field, leaving the page).
  const pending = new Map();
  const fill = (el) => {
    const p = pending.get(el);
    if (!p) return;
    pending.delete(el);
    const d = describe(el);
    const ev = { type: 'fill', t: p.t, target: d };
    if (d.secret) ev.secret = d.secret;
    else ev.value = el.isContentEditable ? (el.innerText || '') : (el.value || '');
    send(ev);
  };
  const flush = (except) => {
    for (const el of [...pending.keys()]) if (el !== except) fill(el);
  };
  window.__oaFlush = () => { flush(null); scrolled(); settleNow(); };

  document.addEventListener('input', (e) => {
    const el = origin(e);
    if (isText(el) && !pending.has(el)) pending.set(el, { t: now() });
  }, true);

  document.addEventListener('change', (e) => {
    const el = origin(e);
    if (el.localName === 'select') { // (also untrusted: automation selects by script, as a person would)
      flush(null);
      const d = describe(el);
      const ev = { type: 'select', t: now(), target: d };
      if (!d.secret) ev.option = el.selectedIndex >= 0 ? el.options[el.selectedIndex].label.trim() : '';
      send(ev);
    } else if (isToggle(el) && e.isTrusted) {
      flush(null);
      send({ type: 'check', t: now(), target: describe(el), checked: el.checked });
    } else if (isText(el)) fill(el);
  }, true);

  document.addEventListener('focusout', (e) => {
    const el = origin(e);
    if (pending.has(el)) fill(el);
  }, true);

  const click = (el, e) => {
    if (isToggle(el) || el.localName === 'select' || el.closest('select')) return; // change reports these
    const lbl = el.closest('label');
    if (lbl && lbl.control && (isToggle(lbl.control) || lbl.control.localName === 'select')) return;
    const act = el.closest(ACTIONABLE) || el;
    flush(isText(act) ? act : null);
    send({ type: 'click', t: now(), target: describe(act, { group: true }), x: e.clientX, y: e.clientY });
  };
  // At pointerdown: the element as the person saw it, before the page changes it.
  document.addEventListener('pointerdown', (e) => {
    if (e.isTrusted && e.button === 0) click(origin(e), e);
  }, true);
  // A click from the keyboard (Enter or Space on a button) comes without a pointer;
  // not the one a form makes on its submit button when Enter is pressed in a field.
  let lastEnter = 0;
  document.addEventListener('click', (e) => {
    if (e.isTrusted && e.detail === 0 && !(e.clientX || e.clientY) && now() - lastEnter > 100) click(origin(e), e);
  }, true);

  document.addEventListener('keydown', (e) => {
    if (!e.isTrusted) return;
    const el = origin(e);
    const mods = (e.ctrlKey ? 'Control+' : '') + (e.altKey ? 'Alt+' : '') + (e.metaKey ? 'Meta+' : '');
    const inText = isText(el);
    // Enter or Space on a button or link is reported as the click it makes.
    if (!inText && (e.key === 'Enter' || e.key === ' ') && el.closest('a[href],button,summary,[role=button]')) return;
    const wanted = inText ? TEXT_KEYS.has(e.key) && !mods : KEYS.has(e.key) || (mods && e.key.length === 1);
    if (!wanted) return;
    if (e.key === 'Enter') lastEnter = now();
    if (inText) fill(el);
    send({ type: 'press', t: now(), key: mods + e.key, target: inText ? describe(el) : null });
  }, true);

  let scrollTimer = null;
  let scrollFrom = window.scrollY;
  const scrolled = () => {
    if (scrollTimer === null) return;
    clearTimeout(scrollTimer);
    scrollTimer = null;
    const se = document.scrollingElement || document.documentElement;
    send({ type: 'scroll', t: now(), y: window.scrollY, dy: window.scrollY - scrollFrom,
      height: se.scrollHeight, view: window.innerHeight });
    scrollFrom = window.scrollY;
  };
  document.addEventListener('scroll', (e) => {
    if (e.target !== document) return;
    clearTimeout(scrollTimer);
    scrollTimer = setTimeout(scrolled, 250); // one event per scroll gesture, once it comes to rest
  }, { capture: true, passive: true });

  window.addEventListener('pagehide', () => { flush(null); settleNow(); }, true);
  window.addEventListener('focus', () => { if (window === window.top) post({ type: 'focus', t: now() }); });
})();

// Describes one element in the ways a skill finds it again: role and accessible
// name (computed as the perceiver's dom.js does), label, text, test id, id, CSS
// path, the labelled region or heading around it, the repeated item it sits in
// (a result card, a seat) and where it is. Shared by the recorder (capture.js)
// and the replayer (features.py), so recorded and live descriptions compare like
// with like. Values of password and card fields are never read.
//
// Usage: const describe = __oaMakeDescribe();  describe(el, {group: true})
const __oaMakeDescribe = () => {
  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const cut = (s, n) => (s.length > n ? s.slice(0, n) : s);
  const BTN = new Set(['submit', 'reset', 'button', 'image']);
  const FIELD = new Set(['input', 'select', 'textarea']);
  const WIDGET = new Set(['button', 'link', 'checkbox', 'radio', 'tab', 'menuitem', 'menuitemcheckbox',
    'menuitemradio', 'option', 'switch', 'combobox', 'textbox', 'searchbox', 'slider', 'spinbutton',
    'listbox', 'treeitem']);
  const TESTID = ['data-testid', 'data-test-id', 'data-test', 'data-qa', 'data-cy'];
  const SENS_AC = /cc-(number|csc|exp)|current-password|new-password|one-time-code/;
  const SENS_RE = /card.?(number|num|no)\b|cardnumber|cc.?(num|csc|cvc|cvv|exp)|credit.?card|(^|[^a-z])(cvc2?|cvv2?|csc)([^a-z]|$)|security.?code|card.?(code|verification)|expir|exp.?(date|month|year)|(^|[^a-z])mm.?\/?.?yy|passw|(^|[^a-z])pwd([^a-z]|$)|passcode|one.?time|(^|[^a-z])otp([^a-z]|$)/;
  const REGION = 'dialog,[role=dialog],[role=alertdialog],[role=region],[role=group],[role=radiogroup],'
    + 'fieldset,form[aria-label],form[aria-labelledby],section[aria-label],section[aria-labelledby],'
    + 'aside[aria-label],nav[aria-label],[aria-modal=true]';
  const HEADINGS = 'h1,h2,h3,h4,h5,h6,[role=heading]';

  const roleOf = (el) => {
    const ra = (el.getAttribute('role') || '').trim().split(/\s+/)[0];
    if (WIDGET.has(ra)) return ra;
    const tag = el.localName;
    switch (tag) {
      case 'a': case 'area': return el.hasAttribute('href') ? 'link' : 'clickable';
      case 'button': case 'summary': return 'button';
      case 'select': return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
      case 'textarea': return 'textbox';
      case 'input': {
        const t = el.type;
        if (t === 'checkbox' || t === 'radio') return t;
        if (BTN.has(t)) return 'button';
        if (t === 'search') return 'searchbox';
        if (t === 'number') return 'spinbutton';
        if (t === 'range') return 'slider';
        if (t === 'file') return 'file';
        return 'textbox';
      }
      default: return el.isContentEditable ? 'textbox' : 'clickable';
    }
  };
  const textOf = (node, limit) => {
    let s = '';
    const tw = node.ownerDocument.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    for (let t = tw.nextNode(); t; t = tw.nextNode()) {
      const p = t.parentElement;
      if (p && p.closest('select,textarea,script,style,[hidden],[aria-hidden=true]')) continue;
      s += t.data + ' ';
      if (s.length > (limit || 400)) break;
    }
    return norm(s);
  };
  const byIds = (el, attr) => {
    const ids = el.getAttribute(attr);
    if (!ids) return '';
    const root = el.getRootNode();
    let s = '';
    for (const id of ids.split(/\s+/)) {
      const t = (root.getElementById ? root.getElementById(id) : null) || document.getElementById(id);
      if (t) s += textOf(t) + ' ';
    }
    return norm(s);
  };
  const isField = (el) => FIELD.has(el.localName) && !(el.localName === 'input' && BTN.has(el.type));
  const labelOf = (el) => {
    let s = byIds(el, 'aria-labelledby');
    if (!s && el.labels && el.labels.length) s = norm([...el.labels].map((l) => textOf(l)).join(' '));
    if (!s) s = norm(el.getAttribute('aria-label') || '');
    return cut(s, 80);
  };
  const nameOf = (el) => {
    const tag = el.localName;
    let n = byIds(el, 'aria-labelledby') || norm(el.getAttribute('aria-label') || '');
    if (!n && FIELD.has(tag) && el.labels && el.labels.length) n = labelOf(el);
    if (!n && tag === 'input' && BTN.has(el.type)) {
      n = el.type === 'image' ? (el.alt || '') : (el.value || (el.type === 'submit' ? 'Submit' : ''));
    }
    if (!n && !isField(el) && roleOf(el) !== 'textbox') {
      n = textOf(el, 200);
      if (!n) {
        const img = el.querySelector('img[alt],svg[aria-label]');
        if (img) n = norm(img.getAttribute('alt') || img.getAttribute('aria-label') || '');
      }
    }
    if (!/[\p{L}\p{N}]/u.test(n)) n = norm(el.getAttribute('title') || '') || n;
    if (!n && (isField(el) || ['textbox', 'combobox'].includes(roleOf(el)))) {
      n = norm(el.getAttribute('placeholder') || el.getAttribute('aria-placeholder') || '');
    }
    return cut(n, 80);
  };
  const secretOf = (el) => {
    if (!isField(el) && !el.isContentEditable) return '';
    const ac = (el.getAttribute('autocomplete') || '').toLowerCase();
    const hay = [el.getAttribute('name'), el.id, el.getAttribute('aria-label'), el.getAttribute('placeholder'),
      labelOf(el), ac].join(' ').toLowerCase();
    if (el.type === 'password') return 'password';
    if (!SENS_AC.test(ac) && !SENS_RE.test(hay)) return '';
    if (/cc-number|card.?(number|num|no)|cardnumber|credit.?card/.test(ac + ' ' + hay)) return 'card.number';
    if (/cc-exp|expir|exp.?(date|month|year)|mm.?\/?.?yy/.test(ac + ' ' + hay)) return 'card.exp';
    if (/cc-csc|cvc|cvv|csc|security.?code|card.?(code|verification)/.test(ac + ' ' + hay)) return 'card.cvc';
    if (/one-time|one.?time|otp|passcode/.test(ac + ' ' + hay)) return 'otp';
    return /passw|pwd|password/.test(ac + ' ' + hay) ? 'password' : 'secret';
  };
  const sig = (el) => el.localName + (el.classList && el.classList.length ? '.' + el.classList[0] : '');
  const step = (el) => {
    if (el.id && !/\d{3,}/.test(el.id)) return '#' + CSS.escape(el.id);
    let k = 1;
    for (let s = el.previousElementSibling; s; s = s.previousElementSibling) if (s.localName === el.localName) k++;
    return sig(el).replace(/^([^.]*)\.(.*)$/, (m, t, c) => t + '.' + CSS.escape(c)) + ':nth-of-type(' + k + ')';
  };
  const cssPath = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 8; e = e.parentElement) {
      const s = step(e);
      parts.unshift(s);
      if (s.startsWith('#') || e.localName === 'body') break;
    }
    return parts.join(' > ');
  };
  let headings = null;
  const headingBefore = (el) => {
    // The last heading before el in document order (binary search over the page's headings).
    if (headings === null) headings = [...document.querySelectorAll(HEADINGS)];
    let lo = 0;
    let hi = headings.length - 1;
    let best = null;
    const anchor = el.getRootNode() instanceof ShadowRoot ? el.getRootNode().host : el;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const h = headings[mid];
      if (h === anchor || (h.compareDocumentPosition(anchor) & Node.DOCUMENT_POSITION_FOLLOWING)) {
        best = h;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best ? cut(textOf(best, 120), 80) : '';
  };
  const contextOf = (el) => {
    let e = el;
    for (let depth = 0; e && depth < 12; depth++) {
      const region = e.parentElement ? e.parentElement.closest(REGION) : null;
      if (!region) {
        const root = e.getRootNode();
        if (root instanceof ShadowRoot) { e = root.host; continue; }
        break;
      }
      let label = byIds(region, 'aria-labelledby') || norm(region.getAttribute('aria-label') || '');
      if (!label && region.localName === 'fieldset') {
        const lg = region.querySelector(':scope > legend');
        if (lg) label = textOf(lg, 120);
      }
      if (!label) {
        const h = region.querySelector(HEADINGS);
        if (h) label = textOf(h, 120);
      }
      if (label) return cut(label, 80);
      e = region;
    }
    return headingBefore(el);
  };
  const itemOf = (el) => {
    // The repeated thing it sits in: an ancestor with 2+ siblings of the same tag and class.
    let a = el;
    for (let depth = 0; a && depth < 7; depth++, a = a.parentElement) {
      const p = a.parentElement;
      if (!p) break;
      const s = sig(a);
      const same = [...p.children].filter((c) => sig(c) === s);
      if (same.length >= 3) return { node: a, sig: s, index: same.indexOf(a), count: same.length, same };
    }
    return null;
  };
  const pathIn = (root, el) => {
    const path = [];
    for (let e = el; e && e !== root; e = e.parentElement) {
      path.unshift([...e.parentElement.children].indexOf(e));
    }
    return path;
  };
  const follow = (root, path) => {
    let e = root;
    for (const i of path) { e = e && e.children[i]; }
    return e || null;
  };
  const groupOf = (el) => {
    // Which of several like widgets (the 2nd seat map): a shadow host, or a labelled group.
    const root = el.getRootNode();
    let g = root instanceof ShadowRoot ? root.host : el.closest('[role=group],[role=radiogroup],fieldset');
    if (!g) return null;
    const sel = g.localName + (g.getAttribute('role') ? '[role="' + g.getAttribute('role') + '"]' : '');
    const all = [...document.querySelectorAll(sel)];
    return all.length > 1 ? { sig: sel, index: Math.max(0, all.indexOf(g)) } : null;
  };
  const hrefOf = (el) => {
    const a = el.closest('a[href]');
    if (!a) return '';
    try { const u = new URL(a.href, location.href); return u.pathname + u.search; } catch (e) { return ''; }
  };

  return (el, opts) => {
    headings = null;
    const tag = el.localName;
    const r = el.getBoundingClientRect();
    const secret = secretOf(el);
    const d = {
      tag, role: roleOf(el), name: nameOf(el), label: labelOf(el), text: cut(textOf(el, 200), 120),
      placeholder: el.getAttribute('placeholder') || '', id: el.id || '', field: el.getAttribute('name') || '',
      type: tag === 'input' ? el.type : (el.getAttribute('type') || ''), testid: '',
      classes: el.classList ? [...el.classList].slice(0, 6) : [], css: cssPath(el), context: contextOf(el),
      href: hrefOf(el), bbox: [r.left, r.top, r.width, r.height], secret,
      dialog: !!el.closest('dialog,[role=dialog],[role=alertdialog],[aria-modal=true]'),
      shadow: el.getRootNode() instanceof ShadowRoot,
    };
    for (const t of TESTID) { const v = el.getAttribute(t); if (v) { d.testid = v; break; } }
    if (tag === 'select') {
      d.options = [...el.options].slice(0, 30).map((o) => norm(o.label || o.text));
      if (!secret) d.value = el.selectedIndex >= 0 ? norm(el.options[el.selectedIndex].label) : '';
    } else if (tag === 'input' && (el.type === 'checkbox' || el.type === 'radio')) d.checked = el.checked;
    else if (isField(el) && !secret) d.value = cut(el.value || '', 200);
    const item = itemOf(el);
    if (item) {
      d.item = { sig: item.sig, index: item.index, count: item.count, text: cut(textOf(item.node, 400), 300) };
      if (opts && opts.group) {
        // The same control in each sibling item, for learning how the person chose.
        const path = pathIn(item.node, el);
        d.item.siblings = item.same.slice(0, 60).map((s) => {
          const c = follow(s, path);
          return { name: c ? nameOf(c) : '', text: cut(textOf(s, 300), 240),
            disabled: !!(c && (c.disabled || c.getAttribute('aria-disabled') === 'true')) };
        });
      }
    }
    const g = groupOf(el);
    if (g) d.group = g;
    return d;
  };
};

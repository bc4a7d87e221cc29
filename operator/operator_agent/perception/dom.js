// The in-page walker of DomPerceiver: one pass over the flat tree (shadow roots,
// closed ones through our registry, and slots) of one frame's document; subtrees
// wholly outside the window are only counted (far.js). Returns the JSON text of compact arrays:
//   {s: [scrollX, scrollY, innerW, innerH, scrollW, scrollH],
//    i: items in document order, f: summary of interactive elements outside
//    the window, n: nodes visited, t: the document's title (top frame)}
// where an item is
//   ['e', k, role, tag, name, x, y, w, h, inViewport, value, placeholder,
//    attrs[k,v,...], options, checked, sensitive, filled, inClosedRoot]   a listed element
//   ['t', text, kind]                                        page text
//   ['f', frameKey]                                          where a child frame sits
// Coordinates are relative to the top-level viewport (a.ox/a.oy is where this
// frame's viewport sits in it). Listed elements are stamped data-oa=a.stamp+k.
// Password and payment-card values are never read out of the page: only
// whether the field is filled.
(a, makeFar) => {
  const doc = document;
  const win = window;
  const M = a.margin;
  const OX = a.ox;
  const OY = a.oy;
  const iw = win.innerWidth;
  const ih = win.innerHeight;
  const TW = a.top ? iw : a.vw;
  const TH = a.top ? ih : a.vh;
  const se = doc.scrollingElement || doc.documentElement;
  const sx = win.scrollX;
  const sy = win.scrollY;
  const sw = se ? Math.max(se.scrollWidth, iw) : iw;
  const sh = se ? Math.max(se.scrollHeight, ih) : ih;
  const scroll = [sx, sy, iw, ih, sw, sh];
  const root = doc.documentElement;
  // JSON text, not objects: Playwright's own result serialization costs far more.
  if (!root) return JSON.stringify({ s: scroll, i: [], f: [], n: 0 });

  const MAXN = a.maxName;
  const MAXT = a.maxText;
  const WIDGET = new Set(['button', 'link', 'checkbox', 'radio', 'tab', 'menuitem', 'menuitemcheckbox',
    'menuitemradio', 'option', 'switch', 'combobox', 'textbox', 'searchbox', 'slider', 'spinbutton',
    'listbox', 'treeitem']);
  const SKIP = new Set(['script', 'style', 'noscript', 'template', 'head', 'meta', 'link', 'title',
    'base', 'datalist', 'option', 'optgroup', 'object', 'embed', 'param', 'track', 'source', 'map']);
  // Leaves: their children are not rendered as page content (or are values).
  const LEAF = new Set(['select', 'textarea', 'input', 'iframe', 'frame', 'img', 'video', 'audio',
    'canvas', 'picture', 'math', 'progress', 'meter']);
  const FORM = new Set(['button', 'input', 'select', 'textarea']);
  const FIELD = new Set(['input', 'select', 'textarea']);
  const HEAD = { h1: 1, h2: 2, h3: 3, h4: 4, h5: 5, h6: 6 };
  const BTN_TYPES = new Set(['submit', 'reset', 'button', 'image']);
  const ERR_RE = /(^|[\s_-])(error|errors|invalid|alert|warning|danger)([\s_-]|$)/i;
  const SENS_AC = /cc-(number|csc|exp)|current-password|new-password|one-time-code/;
  const SENS_RE = /card.?(number|num|no)\b|cardnumber|cc.?(num|csc|cvc|cvv|exp)|credit.?card|(^|[^a-z])(cvc2?|cvv2?|csc)([^a-z]|$)|security.?code|card.?(code|verification)|expir|exp.?(date|month|year)|(^|[^a-z])mm.?\/?.?yy|passw|(^|[^a-z])pwd([^a-z]|$)|passcode|one.?time|(^|[^a-z])otp([^a-z]|$)/;
  const PTR = 1; // parent has cursor:pointer
  const VH = 2; // parent is visibility:hidden (its text is not shown)
  const DIS = 4; // inside aria-disabled
  const EDIT = 8; // inside a contenteditable root
  const HTML_NS = 'http://www.w3.org/1999/xhtml';
  const INBAND = 16; // parent box lies wholly in the window: no subtree is skipped below it
  // The "N more below" summary counts this many controls each way, then says "N+": on a long
  // page the count would otherwise cost what the whole document holds, not what is listed.
  const FAR_MAX = 250;
  const CLOSED = 32; // inside a closed shadow root (acted on through the registry, not CSS)
  // Closed shadow roots, from the registry our init script keeps (browser.py); open ones as usual.
  const reg = typeof win.__oaShadowRoot === 'function' ? win.__oaShadowRoot : null;
  const shadowOf = (el) => el.shadowRoot || (reg ? reg(el) : null);

  const recs = [];
  const items = [];
  let nodes = 0;
  // Text is gathered into one line per block box.
  let buf = '';
  let bufKind = 0;
  let bufOwner = -1;
  let bufNode = null;
  let bufClip = null;
  let lastText = '';

  const norm = (s) => s.replace(/\s+/g, ' ').trim();
  const cut = (s, n) => (s.length > n ? s.slice(0, n - 1).trimEnd() + '…' : s);
  const flush = () => {
    if (bufNode !== null) {
      const t = norm(buf);
      if (t && t !== '|') {
        items.push({ t: cut(t.replace(/^\| | \|$/g, ''), MAXT), k: bufKind, o: bufOwner, n: bufNode, c: bufClip });
        if (bufOwner < 0) lastText = t;
      }
    }
    buf = '';
    bufNode = null;
  };
  const clipOf = (r, clip) => {
    if (!clip) return [r.left, r.top, r.right, r.bottom];
    return [Math.max(r.left, clip[0]), Math.max(r.top, clip[1]), Math.min(r.right, clip[2]),
      Math.min(r.bottom, clip[3])];
  };
  // 0 in the window, 1 above it, 2 below it, 3 never reachable by scrolling (off-canvas).
  const place = (l, t, r, b) => {
    if (r <= -sx || l >= sw - sx || b <= -sy) return 3;
    const tt = OY + t;
    const tb = OY + b;
    if (tb <= -M * TH || (!a.top && b <= 0)) return 1;
    if (tt >= TH * (1 + M) || (!a.top && t >= ih)) return 2;
    return 0;
  };
  // Where a subtree's box lies: 1 wholly above, 2 wholly below the window (skippable),
  // 4 wholly inside it, 0 across its edge or unknown (a box of no size: display:contents...).
  // Content overflowing the box downwards counts (scrollHeight); fixed and other escaping
  // descendants that show in the viewport are found beforehand by hit-testing (keep).
  const band = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return 0;
    const tt = OY + r.top;
    if (tt >= TH * (1 + M) || (!a.top && r.top >= ih)) return 2; // (its overflow only goes further down)
    const bot = Math.max(r.bottom, r.top + el.scrollHeight);
    const tb = OY + bot;
    if (tb <= -M * TH || (!a.top && bot <= 0)) return 1;
    if (tt >= -M * TH && tb <= TH * (1 + M) && (a.top || (r.top >= 0 && bot <= ih))) return 4;
    return 0;
  };
  const roleOf = (el, tag) => {
    switch (tag) {
      case 'a': case 'area': return 'link';
      case 'button': case 'summary': return 'button';
      case 'select': return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
      case 'textarea': return 'textbox';
      case 'input': {
        const t = el.type;
        if (t === 'checkbox' || t === 'radio') return t;
        if (BTN_TYPES.has(t)) return 'button';
        if (t === 'search') return 'searchbox';
        if (t === 'number') return 'spinbutton';
        if (t === 'range') return 'slider';
        if (t === 'file') return 'file';
        return 'textbox';
      }
      default: return el.isContentEditable ? 'textbox' : 'clickable';
    }
  };
  const textOf = (node) => {
    // Text of a label or labelledby target without the values of controls inside it.
    let s = '';
    const tw = doc.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    for (let t = tw.nextNode(); t; t = tw.nextNode()) {
      const p = t.parentElement;
      if (p && p.closest('select,textarea,script,style')) continue;
      s += t.data + ' ';
      if (s.length > 400) break;
    }
    return norm(s);
  };

  // Fixed-position elements show in the viewport whatever their ancestors' boxes: they and
  // their ancestors are never skipped. Found through the style sheets (a selector scan, not
  // a style per element); a sheet we cannot read (another origin's) turns skipping off.
  const keep = new Set();
  let skip = true;
  const fixedSel = ['[style*="fixed" i]', ':popover-open', 'dialog[open]'];
  const scanRules = (rules, depth) => {
    for (const r of rules) {
      if (r.selectorText !== undefined) {
        const st = r.style;
        if (st && st.getPropertyValue('position') === 'fixed' && !r.selectorText.includes('::')) {
          fixedSel.push(r.selectorText);
        }
      }
      if (r.cssRules && depth < 8) scanRules(r.cssRules, depth + 1);
      if (r.styleSheet) scanSheet(r.styleSheet, depth + 1);
    }
  };
  const scanSheet = (sh, depth) => {
    let rules;
    try { rules = sh.cssRules; } catch (e) { skip = false; return; }
    if (rules) scanRules(rules, depth);
  };
  for (const sh of doc.styleSheets) scanSheet(sh, 0);
  for (const sh of doc.adoptedStyleSheets || []) scanSheet(sh, 0);
  // One pass over the document for them all (a selector list), or one each when the list
  // does not parse (a selector this browser does not know). A modal dialog is among them.
  const hitsOf = (sels) => {
    try { return doc.querySelectorAll(sels.join(',')); } catch (e) { /* one is unknown here */ }
    const out = [];
    for (const sel of sels) {
      try { out.push(...doc.querySelectorAll(sel)); } catch (e) { /* left out */ }
    }
    return out;
  };
  let modal = null;
  for (const el of hitsOf(skip ? fixedSel : ['dialog[open]'])) {
    if (skip) for (let n = el; n && !keep.has(n); n = n.parentNode || n.host) keep.add(n);
    if (modal === null && el.localName === 'dialog') {
      try { if (el.matches(':modal')) modal = el; } catch (e) { /* :modal unsupported */ }
    }
  }
  // Without our registry any element may host a root; with it, only if one was ever attached
  // (a declarative shadow root the parser made is then missed by the off-window count).
  const farOf = makeFar({ norm, cut, roleOf, shadowOf, shadows: !reg || reg() > 0, WIDGET, FORM, HTML_NS,
    FAR_MAX });

  // Walk. Parallel stacks: node, flags, owner record, text kind, clip rect.
  const start = modal || root; // everything outside a modal dialog is inert
  const stN = [start];
  const stF = [0];
  const stO = [-1];
  const stK = [0];
  const stC = [null];

  while (stN.length) {
    const node = stN.pop();
    let f = stF.pop();
    let owner = stO.pop();
    let kind = stK.pop();
    let clip = stC.pop();
    if (node === null) { flush(); continue; }
    const nt = node.nodeType;
    if (nt === 3) {
      if (f & VH) continue;
      const s = node.data;
      if (!s || !/\S/.test(s)) {
        if (bufNode !== null && s) buf += ' ';
        if (owner >= 0 && s) recs[owner].tx += ' ';
        continue;
      }
      for (let o = owner; o >= 0; o = recs[o].p) {
        if (recs[o].tx.length < 300) recs[o].tx += s;
      }
      if (bufNode !== null && (kind !== bufKind || owner !== bufOwner)) flush();
      if (bufNode === null) {
        bufNode = node;
        bufKind = kind;
        bufOwner = owner;
        bufClip = clip;
      }
      buf += s;
      continue;
    }
    if (nt !== 1) continue;
    nodes++;
    const el = node;
    const tag = el.localName;
    if (SKIP.has(tag)) continue;
    const hasA = el.hasAttributes();
    if (hasA && (el.getAttribute('aria-hidden') === 'true' || el.hasAttribute('inert'))) continue;
    if (el.namespaceURI !== HTML_NS && tag !== 'svg') continue; // svg roots are leaves
    let inband = (f & INBAND) !== 0;
    if (skip && !inband && tag !== 'html' && tag !== 'body' && !keep.has(el) && el.firstChild) {
      const b = band(el);
      if (b === 1 || b === 2) {
        // Wholly off-window: only counted (far.js), never walked.
        flush();
        lastText = '';
        for (const o of farOf(el, b, owner >= 0 ? recs[owner] : null)) items.push(o);
        continue;
      }
      inband = b === 4;
    }
    const cs = getComputedStyle(el);
    const disp = cs.display;
    if (disp === 'none' || cs.opacity === '0') continue;
    const visOk = cs.visibility === 'visible';
    // Under a pointer parent only its own pointer-ness matters, which it inherits.
    const ptr = (f & PTR) !== 0 || cs.cursor === 'pointer';
    if (disp === 'table-cell') {
      if (bufNode !== null) buf += ' | ';
    } else if (disp !== 'contents' && !disp.startsWith('inline')) {
      flush();
      if (owner >= 0) recs[owner].tx += ' ';
    } else if (disp !== 'inline' || (hasA && (cs.marginLeft !== '0px' || cs.paddingLeft !== '0px'))) {
      // Boxes set apart by spacing read as separate words ("$9.99 $12.00"), unlike <b>in</b>line.
      if (bufNode !== null) buf += ' ';
      if (owner >= 0) recs[owner].tx += ' ';
    }
    if (tag === 'br') { flush(); continue; }

    let role = null;
    let strong = false;
    let weak = false;
    let ctl = el; // the control whose state is read (differs for a label standing in for it)
    let cf = f & (DIS | EDIT | CLOSED);
    if (inband) cf |= INBAND;
    let dis = (f & DIS) !== 0;
    let noWeak = false;
    if (hasA) {
      const ra = el.getAttribute('role');
      if (ra) {
        const r0 = ra.trim().split(/\s+/)[0];
        if (WIDGET.has(r0)) { role = r0; strong = true; } else if (r0 === 'heading') {
          kind = +(el.getAttribute('aria-level') || 2) || 2;
        } else if (r0 === 'alert' || r0 === 'status' || r0 === 'alertdialog') kind = 7;
      }
      if (el.getAttribute('aria-disabled') === 'true') { dis = true; cf |= DIS; }
      const live = el.getAttribute('aria-live');
      if (live === 'assertive' || live === 'polite') kind = 7;
      const cls = el.getAttribute('class');
      if (kind === 0 && cls && ERR_RE.test(cls)) kind = 7;
    }
    const hl = HEAD[tag];
    if (hl) kind = hl;
    if (!strong) {
      switch (tag) {
        case 'a': case 'area': strong = el.hasAttribute('href'); break;
        case 'button': case 'select': case 'textarea': strong = true; break;
        case 'input': strong = el.type !== 'hidden'; break;
        case 'summary': strong = !!el.parentElement && el.parentElement.localName === 'details'; break;
        case 'label': {
          // A label is its control: list it only when the control itself is hidden
          // (custom-styled checkboxes and file inputs), with the control's role.
          const c = el.control;
          if (c) {
            const cr = c.getBoundingClientRect();
            const cVis = c.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })
              && cr.width > 1 && cr.height > 1;
            if (!cVis && !c.matches(':disabled')) { strong = true; ctl = c; } else noWeak = true;
          }
          break;
        }
        default: break;
      }
    }
    if (!strong && hasA && el.hasAttribute('contenteditable') && el.isContentEditable && !(f & EDIT)) {
      strong = true;
      role = 'textbox';
    }
    if (hasA && el.hasAttribute('contenteditable')) cf |= EDIT;
    if (!strong && !noWeak && !(f & EDIT)) {
      weak = (ptr && !(f & PTR)) || (hasA && (el.hasAttribute('onclick')
        || (el.hasAttribute('tabindex') && +el.getAttribute('tabindex') >= 0)));
    }
    if ((strong || weak) && !dis && FORM.has(ctl.localName)) dis = ctl.matches(':disabled');
    let rec = -1;
    if ((strong || weak) && dis) { flush(); kind = 8; } // its text is still shown, marked disabled
    else if ((strong || weak) && visOk) {
      let r = el.getBoundingClientRect();
      if ((r.width < 2 || r.height < 2) && el.firstElementChild && !FIELD.has(tag)) {
        r = el.firstElementChild.getBoundingClientRect();
      }
      const c = clipOf(r, clip);
      if (c[2] - c[0] >= 2 && c[3] - c[1] >= 2 && el.checkVisibility()) {
        const w = place(r.left, r.top, r.right, r.bottom);
        if (w !== 3) {
          flush();
          const o = {
            el, ctl, tag: ctl.localName, role: role || roleOf(ctl, ctl.localName), s: strong ? 1 : 0,
            p: owner, r, w, kid: 0, drop: 0, tx: '', alt: '', near: lastText, cl: (f & CLOSED) !== 0,
          };
          if (ctl !== el && ctl.getAttribute('role')) o.role = ctl.getAttribute('role');
          if (owner >= 0) {
            const par = recs[owner];
            par.kid = 1;
            if (!o.s) o.drop = par.s; // a clickable part of a button or link is that control
            else if (par.s && Math.abs(par.r.left - r.left) < 4 && Math.abs(par.r.top - r.top) < 4
              && Math.abs(par.r.width - r.width) < 6 && Math.abs(par.r.height - r.height) < 6) {
              // Same box: one control. Keep the form field, else the outer element.
              if (FIELD.has(o.tag)) par.drop = 1; else o.drop = 1;
            }
          }
          lastText = '';
          rec = recs.length;
          recs.push(o);
          items.push(o);
          owner = rec;
        }
      }
    }
    if (tag === 'iframe' || tag === 'frame') {
      const fk = hasA ? el.getAttribute('data-oa-frame') : null;
      if (fk && fk.startsWith(a.gen + ':')) { flush(); items.push({ f: +fk.slice(a.gen.length + 1) }); }
      continue;
    }
    if (tag === 'img' || tag === 'svg') {
      if (owner >= 0) {
        let alt = '';
        if (tag === 'img') alt = el.getAttribute('alt') || el.getAttribute('title') || '';
        else {
          alt = el.getAttribute('aria-label') || '';
          if (!alt) { const t = el.querySelector('title'); if (t) alt = t.textContent || ''; }
        }
        if (alt && recs[owner].alt.length < 200) recs[owner].alt += alt + ' ';
      }
      continue;
    }
    if (LEAF.has(tag) || (hasA && cs.contentVisibility === 'hidden')) continue;

    // Children: overflow clip, inherited flags; an end marker closes block boxes and records.
    if (clip && cs.position === 'fixed') clip = null;
    if (tag !== 'html' && tag !== 'body') {
      const ov = cs.overflow; // "visible", or "<x> <y>" / one keyword for both
      const sp = ov === 'visible' ? -1 : ov.indexOf(' ');
      const ovx = sp < 0 ? ov : ov.slice(0, sp);
      const ovy = sp < 0 ? ov : ov.slice(sp + 1);
      const cx = ovx === 'hidden' || ovx === 'clip';
      const cy = ovy === 'hidden' || ovy === 'clip';
      if (cx || cy) {
        const r = el.getBoundingClientRect();
        const nc = clip ? clip.slice() : [-1e9, -1e9, 1e9, 1e9];
        if (cx) { nc[0] = Math.max(nc[0], r.left); nc[2] = Math.min(nc[2], r.right); }
        if (cy) { nc[1] = Math.max(nc[1], r.top); nc[3] = Math.min(nc[3], r.bottom); }
        clip = nc;
      }
    }
    if (ptr) cf |= PTR;
    if (!visOk) cf |= VH;
    let kids;
    const sr = shadowOf(el);
    if (sr) {
      kids = sr.childNodes;
      if (sr !== el.shadowRoot) cf |= CLOSED;
    } else if (tag === 'slot') {
      kids = el.assignedNodes();
      if (!kids.length) kids = el.childNodes;
    } else if (tag === 'details' && !el.open) {
      const sm = el.querySelector(':scope > summary');
      kids = sm ? [sm] : [];
    } else kids = el.childNodes;
    const n = kids.length;
    if (!n) continue;
    // (A table cell does not end its line: a row reads "#1001 | $20.00".)
    if (rec >= 0 || kind === 8
      || (disp !== 'contents' && disp !== 'table-cell' && !disp.startsWith('inline'))) {
      stN.push(null); stF.push(0); stO.push(-1); stK.push(0); stC.push(null);
    }
    for (let i = n - 1; i >= 0; i--) {
      stN.push(kids[i]); stF.push(cf); stO.push(owner); stK.push(kind); stC.push(clip);
    }
  }
  flush();

  // Post-pass: a clickable container holding other controls is not itself one.
  for (const o of recs) if (!o.drop && !o.s && o.kid) o.drop = 1;
  const owned = (o) => {
    for (; o >= 0; o = recs[o].p) if (!recs[o].drop) return true;
    return false;
  };

  const nameOf = (o) => {
    const el = o.el;
    const c = o.ctl;
    const tag = o.tag;
    let n = '';
    const lb = c.getAttribute('aria-labelledby');
    if (lb) {
      const rn = c.getRootNode();
      for (const id of lb.split(/\s+/)) {
        const t = (rn.getElementById ? rn.getElementById(id) : null) || doc.getElementById(id);
        if (t) n += textOf(t) + ' ';
      }
      n = norm(n);
    }
    if (!n) n = norm(c.getAttribute('aria-label') || '');
    if (!n && c !== el) n = norm(o.tx || o.alt);
    if (!n && FIELD.has(tag) && c.labels && c.labels.length) {
      for (const l of c.labels) n += textOf(l) + ' ';
      n = norm(n);
    }
    const isField = FIELD.has(tag) && !(tag === 'input' && (BTN_TYPES.has(c.type)));
    if (!n && tag === 'input' && BTN_TYPES.has(c.type)) {
      const dflt = c.type === 'submit' ? 'Submit' : c.type === 'reset' ? 'Reset' : '';
      n = c.type === 'image' ? (c.alt || '') : (c.value || dflt);
    }
    if (!n && !isField && !(o.role === 'textbox' && tag !== 'input')) n = norm(o.tx) || norm(o.alt);
    // An icon glyph ("×", "☰") says less than a title.
    if (!/[\p{L}\p{N}]/u.test(n)) n = norm(c.getAttribute('title') || '') || n;
    if (!n && (isField || o.role === 'textbox' || o.role === 'combobox')) {
      n = norm(c.getAttribute('placeholder') || c.getAttribute('aria-placeholder') || '');
      if (!n && o.near && o.near.length <= 60) n = o.near;
    }
    return cut(n, MAXN);
  };
  const ATTRS = ['type', 'href', 'name', 'id', 'aria-expanded', 'aria-pressed', 'aria-selected',
    'aria-haspopup', 'aria-current', 'aria-invalid', 'required', 'readonly', 'multiple', 'accept',
    'min', 'max', 'target', 'autocomplete'];
  const detail = (o) => {
    const c = o.ctl;
    const tag = o.tag;
    const r = o.r;
    const name = nameOf(o);
    const attrs = [];
    for (const an of ATTRS) {
      const v = c.getAttribute(an);
      if (v === null) continue;
      if (an === 'href') { attrs.push(an, c.href || v); continue; }
      attrs.push(an, v.length > 80 ? v.slice(0, 80) : v);
    }
    if (c !== o.el) attrs.push('via', 'label');
    if (tag === 'summary' && c.parentElement) {
      attrs.push('aria-expanded', c.parentElement.open ? 'true' : 'false');
    }
    const type = tag === 'input' ? c.type : '';
    let sens = false;
    if (FIELD.has(tag) || o.role === 'textbox') {
      const ac = (c.getAttribute('autocomplete') || '').toLowerCase();
      const hay = [c.getAttribute('name'), c.id, c.getAttribute('aria-label'),
        c.getAttribute('placeholder'), name, ac].join(' ').toLowerCase();
      sens = type === 'password' || SENS_AC.test(ac) || SENS_RE.test(hay);
    }
    let value = null;
    let checked = null;
    let options = null;
    let filled = 0;
    if (tag === 'input' && (type === 'checkbox' || type === 'radio')) checked = c.checked;
    else if (tag === 'select') {
      options = [];
      const opts = c.options;
      const nOpt = Math.min(opts.length, a.maxOptions);
      for (let i = 0; i < nOpt; i++) options.push(cut(norm(opts[i].label || opts[i].text), 60));
      if (opts.length > nOpt) options.push('… ' + (opts.length - nOpt) + ' more');
      if (sens) filled = c.selectedIndex > 0 ? 1 : 0;
      else {
        const sel = [];
        for (const so of c.selectedOptions) sel.push(norm(so.label || so.text));
        value = sel.join(', ');
      }
    } else if (tag === 'input' && type === 'file') {
      const names = [];
      if (c.files) for (const fl of c.files) names.push(fl.name);
      value = names.length ? names.join(', ') : null;
    } else if ((tag === 'input' && !BTN_TYPES.has(type)) || tag === 'textarea') {
      if (sens) filled = c.value !== '' ? 1 : 0;
      else value = c.value === '' ? null : cut(c.value, 200);
    } else if (o.role === 'textbox' && c.isContentEditable) {
      if (sens) filled = norm(c.textContent || '') ? 1 : 0;
      else value = cut(norm(c.innerText || ''), 200) || null;
    }
    if (checked === null) {
      const ac = c.getAttribute('aria-checked');
      if (ac === 'true' || ac === 'false') checked = ac === 'true';
      else if (ac === 'mixed') attrs.push('aria-checked', 'mixed');
    }
    if (value === null && !sens && (o.role === 'slider' || o.role === 'spinbutton')) {
      value = c.getAttribute('aria-valuetext') || c.getAttribute('aria-valuenow');
    }
    const ph = c.getAttribute('placeholder') || c.getAttribute('aria-placeholder');
    const x = OX + r.left;
    const y = OY + r.top;
    const inVp = x < TW && x + r.width > 0 && y < TH && y + r.height > 0
      && (a.top || (r.top < ih && r.bottom > 0 && r.left < iw && r.right > 0));
    return ['e', 0, o.role, tag, name, x, y, r.width, r.height, inVp ? 1 : 0, value, ph,
      attrs, options, checked, sens ? 1 : 0, filled, o.cl ? 1 : 0];
  };

  const out = [];
  const listed = [];
  const far = new Map();
  const farSeen = { above: 0, below: 0 };
  const range = doc.createRange();
  for (const it of items) {
    if (it.f !== undefined) { out.push(['f', it.f]); continue; }
    if (it.t !== undefined) {
      if (owned(it.o)) continue;
      const n = it.n;
      let r;
      const p = n.parentElement;
      if (p && p.childNodes.length === 1) r = p.getBoundingClientRect();
      else { range.selectNodeContents(n); r = range.getBoundingClientRect(); }
      const c = clipOf(r, it.c);
      if (c[2] - c[0] < 2 || c[3] - c[1] < 2) continue;
      if (place(r.left, r.top, r.right, r.bottom) !== 0) continue;
      out.push(['t', it.t, it.k]);
      continue;
    }
    const o = it;
    if (o.drop) continue;
    if (o.w === 0) {
      const d = detail(o);
      out.push(d);
      listed.push(d, o.el);
    } else {
      const dir = o.w === 1 ? 'above' : 'below';
      if (farSeen[dir]++ >= FAR_MAX) continue; // counted as "more" below
      const key = dir + '\u0000' + o.role;
      let g = far.get(key);
      if (!g) { g = { n: 0, names: new Map() }; far.set(key, g); }
      g.n++;
      const nm = o.nm !== undefined ? o.nm : cut(norm(o.el.getAttribute('aria-label') || o.tx || o.alt
        || o.el.getAttribute('placeholder') || ''), 40);
      if (nm) g.names.set(nm, (g.names.get(nm) || 0) + 1);
    }
  }
  // An unnamed link (a product image) going where a named link goes is the same choice twice.
  const hrefOf = (d) => {
    const at = d[12];
    for (let i = 0; i < at.length; i += 2) if (at[i] === 'href') return at[i + 1];
    return null;
  };
  const named = new Set();
  for (let i = 0; i < listed.length; i += 2) {
    const d = listed[i];
    if (d[2] === 'link' && d[4]) named.add(hrefOf(d));
  }
  // Stamp last, so no attribute write sits between layout reads.
  let k = 0;
  for (let i = 0; i < listed.length; i += 2) {
    const d = listed[i];
    if (d[2] === 'link' && !d[4] && named.has(hrefOf(d))) { d[0] = 'x'; continue; }
    d[1] = k;
    listed[i + 1].setAttribute('data-oa', a.stamp + k);
    k++;
  }
  const farOut = [];
  for (const [key, g] of far) {
    const [dir, role] = key.split('\u0000');
    const top = [...g.names].filter((e) => e[1] >= 2).sort((x, y) => y[1] - x[1]).slice(0, 3);
    farOut.push([dir, role, g.n, top]);
  }
  for (const dir of ['above', 'below']) if (farSeen[dir] > FAR_MAX) farOut.push([dir, '', 0, []]); // "N+"
  return JSON.stringify({ s: scroll, i: out.filter((d) => d[0] !== 'x'), f: farOut, n: nodes,
    t: a.top ? norm(doc.title || '') : '' });
}

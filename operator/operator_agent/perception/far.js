// The off-window count of the in-page walker (dom.js): what the "... N more below"
// summary says about a subtree the walk skipped because its box lies wholly above or
// below the listed window. The walk would cost a computed style per element there;
// this costs one querySelectorAll per skipped subtree and a few checks per control,
// so an observation costs what it lists, not the size of the document.
// It counts what the walk would: visible, enabled controls by role, a clickable
// container holding controls once (its controls), a clickable part of a control as that
// control. Unlike the walk it does not see clickables marked by cursor:pointer alone
// (that needs every element's style); those are listed when they come into the window.
// Returns a function (root, w, parent) -> [{role, nm, w}] in document order, where
// `parent` is the walker record owning `root` (or null) and gets kid=1 when the subtree
// holds controls. Past FAR_MAX controls one way it returns nothing more that way: the
// walker counts that many and says "N+" (it has seen at least one over).
(h) => {
  const { norm, cut, roleOf, shadowOf, shadows, WIDGET, FORM, HTML_NS, FAR_MAX } = h;
  const given = { 1: 0, 2: 0 };
  // Disabled form controls are left out by the selector itself (no call per element).
  const SEL = 'a[href],button:enabled,input:not([type=hidden]):enabled,select:enabled,textarea:enabled,'
    + 'summary,label,[role],[onclick],[tabindex],[contenteditable]';
  // Rare in a subtree, so looked for once per subtree, then per control only where present.
  const MUTE = '[aria-hidden="true"],[inert],[aria-disabled="true"]';
  const shown = (el) => el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
  const big = (el) => { const r = el.getBoundingClientRect(); return r.width >= 2 && r.height >= 2; };
  const same = (p, q) => {
    const a = p.getBoundingClientRect();
    const b = q.getBoundingClientRect();
    return Math.abs(a.left - b.left) < 4 && Math.abs(a.top - b.top) < 4
      && Math.abs(a.width - b.width) < 6 && Math.abs(a.height - b.height) < 6;
  };
  // One candidate as a record {el, s, role, kid, drop}, or null when the walk would not list it.
  let muted = false;
  let editable = false;
  const judge = (el) => {
    if (el.namespaceURI !== HTML_NS) return null;
    const tag = el.localName;
    let role = null;
    let strong = false;
    let ctl = el;
    const ra = el.getAttribute('role');
    if (ra) {
      const r0 = ra.trim().split(/\s+/)[0];
      if (WIDGET.has(r0)) { role = r0; strong = true; }
    }
    if (!strong) {
      switch (tag) {
        case 'a': strong = el.hasAttribute('href'); break;
        case 'button': case 'select': case 'textarea': strong = true; break;
        case 'input': strong = el.type !== 'hidden'; break;
        case 'summary': strong = !!el.parentElement && el.parentElement.localName === 'details'; break;
        case 'label': {
          const c = el.control;
          if (!c) break;
          const cr = c.getBoundingClientRect();
          if (shown(c) && cr.width > 1 && cr.height > 1) return null; // the control stands for itself
          if (c.matches(':disabled')) return null;
          strong = true;
          ctl = c;
          break;
        }
        default: break;
      }
    }
    const inEdit = editable && !!el.parentElement && el.parentElement.isContentEditable;
    if (!strong && editable && el.hasAttribute('contenteditable') && el.isContentEditable && !inEdit) {
      strong = true;
      role = 'textbox';
    }
    const weak = !strong && !inEdit
      && (el.hasAttribute('onclick') || (el.hasAttribute('tabindex') && +el.getAttribute('tabindex') >= 0));
    if (!strong && !weak) return null;
    if (muted && el.closest(MUTE)) return null;
    if (ra && FORM.has(tag) && el.matches(':disabled')) return null; // listed by role, not tag
    if (!shown(el)) return null;
    // Inputs made 1px (custom checkboxes, file pickers) are reached through their label.
    if (tag === 'input' && (el.type === 'checkbox' || el.type === 'radio' || el.type === 'file') && !big(el)) {
      return null;
    }
    let r = role || roleOf(ctl, ctl.localName);
    if (ctl !== el && ctl.getAttribute('role')) r = ctl.getAttribute('role');
    return { el, s: strong ? 1 : 0, role: r, kid: 0, drop: 0 };
  };
  const nameOf = (el) => {
    let n = el.getAttribute('aria-label') || el.textContent || '';
    if (/^\s|\s$|\s\s|[\n\t]/.test(n)) n = norm(n);
    if (!n) {
      const img = el.querySelector('img[alt],img[title],svg[aria-label]');
      if (img) n = img.getAttribute('alt') || img.getAttribute('title') || img.getAttribute('aria-label') || '';
    }
    if (!n) n = norm(el.getAttribute('placeholder') || '');
    return cut(n, 40);
  };
  // Candidates of one tree scope under `root` (root included), then of the shadow trees inside.
  const scope = (root, out) => {
    if (root.nodeType === 1 && root.matches(SEL)) out.push(root);
    for (const el of root.querySelectorAll(SEL)) out.push(el);
    if (!shadows) return;
    const hosts = root.nodeType === 1 ? [root, ...root.getElementsByTagName('*')] : root.querySelectorAll('*');
    for (const el of hosts) {
      const sr = shadowOf(el);
      if (sr) scope(sr, out);
    }
  };
  return (root, w, parent) => {
    if (given[w] > FAR_MAX) return [];
    const cands = [];
    scope(root, cands);
    if (!cands.length) return [];
    muted = root.querySelector(MUTE) !== null;
    editable = root.querySelector('[contenteditable]') !== null;
    const recs = [];
    const stack = parent ? [parent] : [];
    for (const el of cands) {
      const o = judge(el);
      if (!o) continue;
      while (stack.length > (parent ? 1 : 0) && !stack[stack.length - 1].el.contains(el)) stack.pop();
      const par = stack.length ? stack[stack.length - 1] : null;
      if (par) {
        par.kid = 1;
        if (!o.s) o.drop = par.s;
        else if (par.s && same(par.el, el)) {
          if (FORM.has(o.el.localName) && o.el.localName !== 'button') par.drop = 1; else o.drop = 1;
        }
      }
      stack.push(o);
      recs.push(o);
    }
    const out = [];
    for (const o of recs) {
      if (o.drop || (!o.s && o.kid)) continue;
      out.push({ role: o.role, nm: nameOf(o.el), w });
    }
    given[w] += out.length;
    return out;
  };
}

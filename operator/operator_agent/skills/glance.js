  // The glance's finder (skills/glance.py), after describe.js: for each spec {selector, family,
  // needles, stamp}, the shown, enabled elements of a role in `family` whose name has one of
  // the needles, described as describe.js does, with the attributes the perceiver's dom.js
  // lists, each stamped data-oa=stamp+k so an action can find it. Elements inside open
  // shadow roots count; inert ones (aria-hidden, inert, behind a modal dialog) do not.
  const describe = __oaMakeDescribe();
  const ATTRS = ['type', 'href', 'name', 'id', 'aria-expanded', 'aria-pressed', 'aria-selected',
    'aria-haspopup', 'aria-current', 'aria-invalid', 'required', 'readonly', 'multiple', 'accept',
    'min', 'max', 'target', 'autocomplete', 'aria-label'];
  const modal = document.querySelector('dialog:modal');
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
      && !el.closest('[aria-hidden="true"],[inert]') && (!modal || modal.contains(el))
      && !el.disabled && el.getAttribute('aria-disabled') !== 'true';
  };
  const all = (root, selector, out) => {
    for (const el of root.querySelectorAll(selector)) out.push(el);
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) all(el.shadowRoot, selector, out);
    return out;
  };
  const low = (s) => (s || '').replace(/\s+/g, ' ').trim().toLowerCase();
  const out = [];
  for (const spec of specs) {
    const found = [];
    for (const el of all(document, spec.selector, [])) {
      if (!shown(el)) continue;
      const d = describe(el);
      if (!spec.family.includes(d.role) || !spec.needles.some((n) => low(d.name).includes(low(n)))) continue;
      const attrs = {};
      for (const an of ATTRS) {
        const v = el.getAttribute(an);
        if (v !== null) attrs[an] = an === 'href' ? (el.href || v) : v.slice(0, 80);
      }
      const r = el.getBoundingClientRect();
      d.attrs = attrs;
      d.viewport = r.left < innerWidth && r.right > 0 && r.top < innerHeight && r.bottom > 0;
      d.stamp = spec.stamp + found.length;
      el.setAttribute('data-oa', d.stamp);
      found.push(d);
    }
    out.push(found);
  }
  return JSON.stringify({title: document.title, found: out});

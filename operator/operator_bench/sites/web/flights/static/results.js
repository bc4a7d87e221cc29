// The results page: asks the (slow) search endpoint for flights in batches, adds the
// next batch when the end of the list scrolls into view, re-asks when a filter or
// the sort order changes. The sort control is a div-based dropdown, not a <select>.
(function () {
  const app = document.getElementById('results-app');
  if (!app) return;
  const list = document.getElementById('results-list');
  const loading = document.getElementById('loading');
  const more = document.getElementById('more');
  const count = document.getElementById('results-title');
  const error = document.getElementById('results-error');
  const filters = document.getElementById('filters');
  const state = { sort: 'best', next: 0, busy: false, gen: 0 };

  const query = (offset) => {
    const p = new URLSearchParams({ from: app.dataset.from, to: app.dataset.to, date: app.dataset.date,
      passengers: app.dataset.passengers, sort: state.sort, offset: String(offset) });
    for (const [k, v] of new FormData(filters)) if (v !== '') p.append(k, v);
    return p;
  };

  async function load(reset) {
    if (reset) {
      state.gen++;
      state.next = 0;
      state.busy = false;
      list.innerHTML = '';
      loading.hidden = false;
      more.textContent = '';
    }
    if (state.busy || state.next === null) return;
    state.busy = true;
    const gen = state.gen;
    if (!reset) more.textContent = 'Loading more flights…';
    let data;
    try {
      const resp = await fetch('/api/flights?' + query(state.next));
      data = await resp.json();
      if (!resp.ok) throw new Error(data.error || 'Search failed');
    } catch (err) {
      if (gen !== state.gen) return;
      state.busy = false;
      loading.hidden = true;
      error.textContent = 'Sorry, we could not load flights. ' + err.message;
      error.hidden = false;
      return;
    }
    if (gen !== state.gen) return; // a newer search replaced this one
    error.hidden = true;
    loading.hidden = true;
    list.insertAdjacentHTML('beforeend', data.html);
    state.next = data.next;
    state.busy = false;
    count.textContent = data.total + (data.total === 1 ? ' flight found' : ' flights found');
    if (data.total === 0) {
      list.innerHTML = '<div class="empty"><h3>No flights match your filters</h3><p>Try removing a filter.</p></div>';
      more.textContent = '';
    } else {
      more.textContent = state.next === null ? 'Showing all ' + data.total + ' flights' : 'Scroll down for more flights';
    }
    // Observing again reports at once if the end of the list is still on screen.
    observer.unobserve(more);
    observer.observe(more);
  }

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && state.next !== null && !state.busy && state.next > 0) load(false);
  }, { rootMargin: '0px 0px 200px 0px' });

  filters.addEventListener('change', (e) => { if (e.target.name !== 'max_price') load(true); });
  filters.addEventListener('submit', (e) => { e.preventDefault(); load(true); });
  filters.addEventListener('reset', () => setTimeout(() => load(true)));

  list.addEventListener('click', (e) => {
    const button = e.target.closest('.select-flight');
    if (!button) return;
    const panel = document.getElementById(button.getAttribute('aria-controls'));
    const open = panel.hidden;
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    button.textContent = open ? 'Hide fares' : 'Select';
  });

  // --- the custom sort dropdown -------------------------------------------------
  const toggle = document.getElementById('sort-toggle');
  const menu = document.getElementById('sort-options');
  const value = document.getElementById('sort-value');
  const options = Array.from(menu.querySelectorAll('[role="option"]'));
  let active = 0;
  const openMenu = (show) => {
    menu.hidden = !show;
    toggle.setAttribute('aria-expanded', String(show));
  };
  const pick = (li) => {
    options.forEach((o) => o.setAttribute('aria-selected', String(o === li)));
    value.textContent = li.textContent;
    openMenu(false);
    if (state.sort !== li.dataset.value) {
      state.sort = li.dataset.value;
      load(true);
    }
  };
  toggle.addEventListener('click', () => openMenu(menu.hidden));
  toggle.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      if (menu.hidden) openMenu(true); else pick(options[active]);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      openMenu(true);
      active = (active + (e.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
      options.forEach((o, i) => o.classList.toggle('active', i === active));
    } else if (e.key === 'Escape') openMenu(false);
  });
  options.forEach((li) => li.addEventListener('click', () => pick(li)));
  document.addEventListener('click', (e) => {
    if (!menu.hidden && !e.target.closest('#sort-dropdown')) openMenu(false);
  });

  load(true);
})();

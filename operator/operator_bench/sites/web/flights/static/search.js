// The search form: airport autocomplete (a combobox with a listbox of suggestions)
// and a date-picker widget (a calendar of buttons, not a native date input).
(function () {
  const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
    'October', 'November', 'December'];
  const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const pad = (n) => String(n).padStart(2, '0');
  const iso = (d) => d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
  const parse = (s) => { const [y, m, d] = s.split('-').map(Number); return new Date(y, m - 1, d); };
  const short = (d) => DAYS[d.getDay()].slice(0, 3) + ' ' + d.getDate() + ' ' + MONTHS[d.getMonth()].slice(0, 3) + ' ' + d.getFullYear();
  const long = (d) => DAYS[d.getDay()] + ', ' + d.getDate() + ' ' + MONTHS[d.getMonth()] + ' ' + d.getFullYear();

  // --- airport autocomplete ---------------------------------------------------
  function autocomplete(input) {
    const list = document.getElementById(input.getAttribute('aria-controls'));
    let items = [];
    let active = -1;
    let timer = null;
    let seq = 0;
    const close = () => {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      active = -1;
    };
    const choose = (item) => {
      input.value = item.label;
      items = [];
      close();
    };
    const render = () => {
      list.innerHTML = '';
      items.forEach((item, i) => {
        const li = document.createElement('li');
        li.id = list.id + '-' + i;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', i === active ? 'true' : 'false');
        const main = document.createElement('span');
        main.className = 'sugg-main';
        main.textContent = item.label;
        const detail = document.createElement('span');
        detail.className = 'sugg-detail';
        detail.textContent = item.detail;
        li.append(main, detail);
        li.addEventListener('mousedown', (e) => { e.preventDefault(); choose(item); });
        list.appendChild(li);
      });
      list.hidden = items.length === 0;
      input.setAttribute('aria-expanded', items.length ? 'true' : 'false');
      if (active >= 0) input.setAttribute('aria-activedescendant', list.id + '-' + active);
    };
    input.addEventListener('input', () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (!q) { items = []; render(); return; }
      timer = setTimeout(async () => {
        const mine = ++seq;
        const resp = await fetch('/api/airports?q=' + encodeURIComponent(q));
        const data = await resp.json();
        if (mine !== seq) return;
        items = data;
        active = -1;
        render();
      }, 120);
    });
    input.addEventListener('keydown', (e) => {
      if (list.hidden || !items.length) return;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        active = (active + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
        render();
      } else if (e.key === 'Enter' && active >= 0) {
        e.preventDefault();
        choose(items[active]);
      } else if (e.key === 'Escape') {
        close();
      }
    });
    input.addEventListener('blur', close);
  }
  document.querySelectorAll('.airport-field input[role="combobox"]').forEach(autocomplete);

  // --- date picker ------------------------------------------------------------
  const display = document.getElementById('depart-display');
  const hidden = document.getElementById('depart-date');
  const cal = document.getElementById('calendar');
  if (!display) return;
  // The server says which days it takes (its today, not this browser's clock).
  const today = cal.dataset.today ? parse(cal.dataset.today) : new Date();
  today.setHours(0, 0, 0, 0);
  const last = cal.dataset.last ? parse(cal.dataset.last) : new Date(today.getTime() + 330 * 864e5);
  let view = hidden.value ? parse(hidden.value) : new Date(today);
  view = new Date(view.getFullYear(), view.getMonth(), 1);
  if (hidden.value) display.value = short(parse(hidden.value));

  const render = () => {
    const y = view.getFullYear();
    const m = view.getMonth();
    const first = new Date(y, m, 1);
    const canPrev = first > new Date(today.getFullYear(), today.getMonth(), 1);
    const canNext = new Date(y, m + 1, 1) <= last;
    let html = '<div class="cal-head">'
      + '<button type="button" class="cal-nav" data-step="-1" aria-label="Previous month"' + (canPrev ? '' : ' disabled') + '>‹</button>'
      + '<h3 class="cal-title" aria-live="polite">' + MONTHS[m] + ' ' + y + '</h3>'
      + '<button type="button" class="cal-nav" data-step="1" aria-label="Next month"' + (canNext ? '' : ' disabled') + '>›</button></div>'
      + '<table class="cal-grid"><thead><tr>';
    for (const d of ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su']) html += '<th scope="col">' + d + '</th>';
    html += '</tr></thead><tbody><tr>';
    const lead = (first.getDay() + 6) % 7;
    for (let i = 0; i < lead; i++) html += '<td></td>';
    const days = new Date(y, m + 1, 0).getDate();
    for (let d = 1; d <= days; d++) {
      const date = new Date(y, m, d);
      const off = date < today || date > last;
      const sel = hidden.value === iso(date);
      html += '<td><button type="button" class="day' + (sel ? ' selected' : '') + '" data-date="' + iso(date) + '" aria-label="'
        + long(date) + '"' + (sel ? ' aria-pressed="true"' : '') + (off ? ' disabled' : '') + '>' + d + '</button></td>';
      if ((lead + d) % 7 === 0 && d < days) html += '</tr><tr>';
    }
    html += '</tr></tbody></table><div class="cal-foot"><button type="button" class="linklike cal-close">Close</button></div>';
    cal.innerHTML = html;
  };
  const open = () => {
    if (!cal.hidden) return;
    render();
    cal.hidden = false;
    display.setAttribute('aria-expanded', 'true');
  };
  const close = () => {
    cal.hidden = true;
    display.setAttribute('aria-expanded', 'false');
  };
  display.addEventListener('click', open);
  display.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ' || e.key === 'ArrowDown') { e.preventDefault(); open(); }
    if (e.key === 'Escape') close();
  });
  cal.addEventListener('click', (e) => {
    const nav = e.target.closest('.cal-nav');
    if (nav) {
      view = new Date(view.getFullYear(), view.getMonth() + Number(nav.dataset.step), 1);
      render();
      return;
    }
    const day = e.target.closest('button.day');
    if (day && !day.disabled) {
      hidden.value = day.dataset.date;
      display.value = short(parse(day.dataset.date));
      display.removeAttribute('aria-invalid');
      close();
      return;
    }
    if (e.target.closest('.cal-close')) close();
  });
  document.addEventListener('mousedown', (e) => {
    if (!cal.hidden && !cal.contains(e.target) && e.target !== display) close();
  });
})();

// <seat-map>: a web component with an open shadow root. Seats are buttons inside the
// shadow tree; the chosen seats are written to a hidden input in the page's form.
(function () {
  const KIND = { A: 'window', B: 'middle', C: 'aisle', D: 'aisle', E: 'middle', F: 'window' };
  const STYLE = `
    :host { display: block; margin: 10px 0 18px; }
    .plane { display: inline-block; background: #f4f7fb; border: 2px solid #c9d6e6; border-radius: 60px 60px 16px 16px; padding: 40px 18px 16px; }
    .letters, .row { display: grid; grid-template-columns: 28px repeat(3, 30px) 22px repeat(3, 30px); gap: 4px; align-items: center; }
    .letters span { text-align: center; font-size: 12px; color: #5b6b7f; font-weight: 600; }
    .row { margin: 3px 0; }
    .num { font-size: 11px; color: #5b6b7f; text-align: right; padding-right: 4px; }
    .seat { width: 30px; height: 28px; border-radius: 6px 6px 3px 3px; border: 1px solid #5aa0d8; background: #e4f1fb; color: #1b4d75; font-size: 11px; cursor: pointer; padding: 0; }
    .seat.aisle { background: #e6f6ee; border-color: #53b07f; color: #1d6a43; }
    .seat.window { background: #eef0fd; border-color: #7d86e0; color: #3a3f8f; }
    .seat:hover:not(:disabled) { filter: brightness(0.93); }
    .seat[aria-pressed="true"] { background: #0a66c2; border-color: #0a4f96; color: #fff; font-weight: 700; }
    .seat:disabled { background: #d9dde3; border-color: #c3c8d0; color: #9aa2ad; cursor: not-allowed; }
    .exit { font-size: 10px; color: #c0392b; text-align: center; margin: 4px 0; letter-spacing: 2px; }
  `;
  class SeatMap extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      const root = this.attachShadow({ mode: 'open' });
      const rows = parseInt(this.dataset.rows, 10);
      const taken = new Set((this.dataset.taken || '').split(',').filter(Boolean));
      this.count = parseInt(this.dataset.count, 10) || 1;
      this.input = document.getElementById(this.dataset.input);
      this.summary = document.getElementById(this.dataset.summary);
      this.selected = this.input && this.input.value ? this.input.value.split(',').filter(Boolean) : [];
      let html = '<style>' + STYLE + '</style><div class="plane" role="group" aria-label="Seat map, flight '
        + (this.dataset.flight || '') + '"><div class="letters"><span></span><span>A</span><span>B</span><span>C</span><span></span><span>D</span><span>E</span><span>F</span></div>';
      for (let r = 1; r <= rows; r++) {
        if (r === 12) html += '<div class="exit">EXIT ROW</div>';
        html += '<div class="row"><span class="num">' + r + '</span>';
        for (const letter of 'ABCDEF') {
          const seat = r + letter;
          const off = taken.has(seat);
          html += '<button type="button" class="seat ' + KIND[letter] + '" data-seat="' + seat + '" aria-label="Seat '
            + seat + ', ' + KIND[letter] + (off ? ', taken' : '') + '" aria-pressed="false"' + (off ? ' disabled' : '') + '>'
            + (off ? '×' : letter) + '</button>';
          if (letter === 'C') html += '<span></span>';
        }
        html += '</div>';
      }
      root.innerHTML = html + '</div>';
      root.addEventListener('click', (e) => {
        const button = e.target.closest('button.seat');
        if (button && !button.disabled) this.toggle(button.dataset.seat);
      });
      this.update(false);
    }
    toggle(seat) {
      const at = this.selected.indexOf(seat);
      if (at >= 0) this.selected.splice(at, 1);
      else {
        if (this.selected.length >= this.count) this.selected.shift(); // the oldest choice gives way
        this.selected.push(seat);
      }
      this.update(true);
    }
    update(notify) {
      for (const b of this.shadowRoot.querySelectorAll('button.seat')) {
        b.setAttribute('aria-pressed', String(this.selected.includes(b.dataset.seat)));
      }
      if (this.input) this.input.value = this.selected.join(',');
      if (this.summary) {
        this.summary.textContent = this.selected.length
          ? 'Selected: ' + this.selected.map((s) => s + ' (' + KIND[s.slice(-1)] + ')').join(', ')
          : 'No seat selected yet.';
      }
      if (notify) this.dispatchEvent(new CustomEvent('change', { bubbles: true, composed: true }));
    }
  }
  customElements.define('seat-map', SeatMap);
})();

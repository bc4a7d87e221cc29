// The card form inside the merchant's iframe. Checks the form as a real card form
// does, sends the details to Paylane (this origin), shows the result, and tells the
// parent page with postMessage (only to the origin the intent was created for).
(function () {
  const form = document.getElementById('pay-form');
  if (!form) return;
  const intent = form.dataset.intent;
  const parentOrigin = form.dataset.parent;
  const number = document.getElementById('card-number');
  const expiry = document.getElementById('card-expiry');
  const cvc = document.getElementById('card-cvc');
  const name = document.getElementById('card-name');
  const button = document.getElementById('pay-button');
  const message = document.getElementById('pay-message');
  const inputs = { number: number, expiry: expiry, cvc: cvc, name: name };
  const label = button.textContent;
  button.disabled = false;  // the form is ours now (see pay.html)

  const onlyDigits = (s) => s.replace(/\D/g, '');
  number.addEventListener('input', () => {
    const d = onlyDigits(number.value).slice(0, 19);
    const groups = /^3[47]/.test(d) ? [d.slice(0, 4), d.slice(4, 10), d.slice(10, 15)] : d.match(/.{1,4}/g) || [];
    number.value = groups.filter(Boolean).join(' ');
  });
  expiry.addEventListener('input', (e) => {
    const d = onlyDigits(expiry.value).slice(0, 4);
    if (e.inputType && e.inputType.startsWith('delete')) return;
    expiry.value = d.length > 2 ? d.slice(0, 2) + ' / ' + d.slice(2) : d;
  });

  const luhn = (d) => {
    if (!/^\d{12,19}$/.test(d)) return false;
    let sum = 0;
    for (let i = 0; i < d.length; i++) {
      let x = +d[d.length - 1 - i];
      if (i % 2) { x *= 2; if (x > 9) x -= 9; }
      sum += x;
    }
    return sum % 10 === 0;
  };
  const check = () => {
    const errors = {};
    const d = onlyDigits(number.value);
    if (!d) errors.number = 'Enter your card number.';
    else if (!luhn(d)) errors.number = 'Your card number is invalid.';
    const m = expiry.value.match(/^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/);
    const now = new Date();
    if (!expiry.value.trim()) errors.expiry = 'Enter the expiry date.';
    else if (!m || +m[1] < 1 || +m[1] > 12) errors.expiry = "Your card's expiry date is incomplete (use MM / YY).";
    else {
      const y = m[2].length === 2 ? 2000 + +m[2] : +m[2];
      if (y < now.getFullYear() || (y === now.getFullYear() && +m[1] < now.getMonth() + 1)) {
        errors.expiry = "Your card's expiry year is in the past.";
      }
    }
    const want = /^3[47]/.test(d) ? 4 : 3;
    if (!cvc.value.trim()) errors.cvc = 'Enter the security code.';
    else if (!new RegExp('^\\d{' + want + '}$').test(cvc.value.trim())) {
      errors.cvc = "Your card's security code should be " + want + ' digits.';
    }
    if (!name.value.trim()) errors.name = 'Enter the name on the card.';
    return errors;
  };
  const show = (errors, text, kind) => {
    for (const key of Object.keys(inputs)) {
      const el = inputs[key];
      const msg = form.querySelector('.field-error[data-for="' + key + '"]');
      if (errors[key]) { el.setAttribute('aria-invalid', 'true'); msg.textContent = errors[key]; }
      else { el.removeAttribute('aria-invalid'); msg.textContent = ''; }
    }
    message.textContent = text || '';
    message.className = 'pay-message' + (kind ? ' ' + kind : '');
  };
  const tell = (data) => {
    if (window.parent !== window && parentOrigin) {
      window.parent.postMessage(Object.assign({ type: 'paylane:result', intent: intent }, data), parentOrigin);
    }
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const errors = check();
    if (Object.keys(errors).length) {
      show(errors, 'Check your card details.', 'error');
      const first = inputs[Object.keys(errors)[0]];
      if (first) first.focus();
      return;
    }
    show({}, 'Processing…', 'info');
    button.disabled = true;
    button.textContent = 'Processing…';
    let data;
    try {
      const resp = await fetch('/api/intents/' + encodeURIComponent(intent) + '/confirm', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        // The amount the payer sees goes with the card, and Paylane refuses any other.
        body: JSON.stringify({ amount: form.dataset.amountValue, currency: form.dataset.currency,
                               number: number.value, expiry: expiry.value, cvc: cvc.value, name: name.value }),
      });
      data = await resp.json();
    } catch (err) {
      data = { status: 'error', message: 'We could not reach Paylane. Check your connection and try again.' };
    }
    if (data.status === 'approved') {
      show({}, 'Payment approved. Finishing your order…', 'success');
      button.textContent = 'Paid';
      tell({ status: 'approved', last4: data.last4, brand: data.brand });
      return;
    }
    show(data.errors || {}, data.message || 'Your payment could not be completed.', 'error');
    button.disabled = false;
    button.textContent = label;
    if (data.status === 'declined') tell({ status: 'declined', code: data.code, message: data.message });
  });
})();

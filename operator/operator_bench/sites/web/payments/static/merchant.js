// Paylane's merchant script (served by Paylane, as processors serve theirs): the card form
// lives in a cross-origin iframe and reports the result with postMessage; only messages
// from Paylane's origin are trusted, and the merchant's server checks the payment again.
(function () {
  const frame = document.getElementById('payment-frame');
  const error = document.getElementById('payment-error');
  const complete = document.getElementById('complete-form');
  if (!frame) return;
  const origin = frame.dataset.origin;
  window.addEventListener('message', (e) => {
    if (e.origin !== origin || !e.data || e.data.type !== 'paylane:result') return;
    if (e.data.status === 'approved') {
      error.hidden = true;
      complete.submit();
    } else {
      error.textContent = 'Payment failed: ' + (e.data.message || 'your card was declined.') + ' Try another card.';
      error.hidden = false;
    }
  });
})();

// Site-wide behaviour: the cookie-consent banner and the newsletter pop-up (a
// deliberate hazard: it covers the page a few seconds after load until dismissed).
(function () {
  const setCookie = (name, value, days) => {
    document.cookie = name + '=' + encodeURIComponent(value) + '; path=/; max-age=' + days * 86400 + '; SameSite=Lax';
  };
  const hasCookie = (name) => document.cookie.split('; ').some((c) => c.startsWith(name + '='));

  const banner = document.getElementById('cookie-banner');
  if (banner) {
    banner.addEventListener('click', (e) => {
      const button = e.target.closest('[data-consent]');
      if (!button) return;
      setCookie('bc_consent', button.dataset.consent, 180);
      banner.remove();
    });
  }

  const overlay = document.getElementById('newsletter');
  const delay = parseInt(document.body.dataset.newsletterDelay, 10);
  if (!overlay) return;
  const close = () => {
    overlay.hidden = true;
    setCookie('bc_newsletter', 'dismissed', 30);
  };
  overlay.addEventListener('click', (e) => {
    if (e.target === overlay || e.target.closest('[data-newsletter-close]')) close();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !overlay.hidden) close();
  });
  if (delay >= 0) {
    setTimeout(() => {
      if (!hasCookie('bc_newsletter')) overlay.hidden = false;
    }, delay);
  }
  const form = document.getElementById('newsletter-form');
  const error = document.getElementById('newsletter-error');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const resp = await fetch('/newsletter', { method: 'POST', body: new FormData(form) });
    const data = await resp.json();
    if (!data.ok) {
      error.textContent = data.error;
      return;
    }
    setCookie('bc_newsletter', 'subscribed', 365);
    form.innerHTML = '<p class="thanks" role="status">Thanks for subscribing! Use code WELCOME10 at checkout.</p>';
  });
})();

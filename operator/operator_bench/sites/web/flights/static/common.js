// The cookie-consent wall: it covers the page until the visitor answers.
(function () {
  const wall = document.getElementById('cookie-consent');
  if (!wall) return;
  wall.addEventListener('click', (e) => {
    const button = e.target.closest('[data-consent]');
    if (!button) return;
    document.cookie = 'sk_consent=' + button.dataset.consent + '; path=/; max-age=' + 180 * 86400 + '; SameSite=Lax';
    wall.remove();
  });
})();

// Product page: picking a colour or size updates price and stock; "Add to cart"
// posts in the background and opens the "Added to cart" modal dialog.
(function () {
  const form = document.getElementById('add-form');
  if (!form) return;
  const variants = JSON.parse(form.dataset.variants);
  const button = document.getElementById('add-to-cart');
  const error = document.getElementById('add-error');
  const stockEl = document.getElementById('stock-status');
  const colourName = document.getElementById('colour-name');
  const soldOut = variants.every((v) => v.stock <= 0);

  const current = () => {
    const colour = (form.querySelector('input[name="colour"]:checked') || {}).value || null;
    const sizeEl = form.querySelector('select[name="size"]');
    const size = sizeEl ? sizeEl.value : null;
    return variants.find((v) => (v.colour || null) === colour && (v.size || null) === size);
  };
  const stockText = (n) => {
    if (n <= 0) return '<span class="stock out">Out of stock</span>';
    if (n <= 5) return '<span class="stock low">Only ' + n + ' left in stock</span>';
    return '<span class="stock in">In stock</span>';
  };
  const refresh = () => {
    if (soldOut) return;
    const v = current();
    error.textContent = '';
    if (colourName) {
      const c = form.querySelector('input[name="colour"]:checked');
      colourName.textContent = c ? c.value : '';
    }
    if (!v) {
      stockEl.innerHTML = '<span class="stock out">This combination is not available</span>';
      button.disabled = true;
      button.textContent = 'Unavailable';
      return;
    }
    document.querySelectorAll('[data-price]').forEach((el) => { el.textContent = v.price; });
    stockEl.innerHTML = stockText(v.stock);
    button.disabled = v.stock <= 0;
    button.textContent = v.stock <= 0 ? 'Out of stock' : 'Add to cart';
  };
  form.addEventListener('change', refresh);

  const dialog = document.getElementById('added-dialog');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    button.disabled = true;
    let data;
    try {
      const resp = await fetch(form.action, { method: 'POST', body: new FormData(form), headers: { Accept: 'application/json' } });
      data = await resp.json();
    } catch (err) {
      data = { ok: false, error: 'Something went wrong. Please try again.' };
    }
    refresh();
    if (!data.ok) {
      error.textContent = data.error;
      return;
    }
    document.getElementById('added-item').textContent = data.quantity + ' × ' + data.title + (data.options ? ' (' + data.options + ')' : '') + ' at ' + data.price;
    document.getElementById('added-count').textContent = data.cart_count;
    document.getElementById('added-subtotal').textContent = data.subtotal;
    document.getElementById('cart-count').textContent = data.cart_count;
    dialog.showModal();
  });
})();

// metalgate console: small keyboard helpers. Every page works without this file (and without htmx).
document.addEventListener('keydown', function (e) {
  // "/" focuses the search box, as in most consoles
  if (e.key === '/' && !/^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName)) {
    var q = document.getElementById('q');
    if (q) { e.preventDefault(); q.focus(); }
  }
});
document.addEventListener('change', function (e) {
  // the header checkbox selects every machine of the page
  if (e.target && e.target.id === 'select-all') {
    document.querySelectorAll('input[name="ids"]').forEach(function (c) { c.checked = e.target.checked; });
  }
});

// The payment code page: count down to the next code. The page reloads
// itself (meta refresh) without this script; the count only shows when.
(function () {
  "use strict";
  var el = document.getElementById("paycode-countdown");
  if (!el) {
    return;
  }
  var left = parseInt(el.getAttribute("data-seconds"), 10);
  if (!(left > 0)) {
    return;
  }
  var text = el.textContent;
  var timer = setInterval(function () {
    left -= 1;
    if (left <= 0) {
      clearInterval(timer);
      window.location.reload();
      return;
    }
    el.textContent = text.replace(/\d+/, String(left));
  }, 1000);
})();

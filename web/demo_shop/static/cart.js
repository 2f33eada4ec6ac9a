// The demo shop's "cart": only a counter. The widget counts the same clicks on its own.
(function () {
  "use strict";
  var count = 0;
  var badge = document.getElementById("cart-count");
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-chatcart-add-to-cart]")) {
      count += 1;
      badge.textContent = String(count);
    }
  });
})();

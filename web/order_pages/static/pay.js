// Order page, proof form: say early when a picked file will be refused, and keep a
// second tap from sending the same proof twice. The server checks everything again.
(function () {
  "use strict";
  var form = document.getElementById("proof-form");
  var input = document.getElementById("proof");
  var picked = document.getElementById("picked");
  if (!form || !input || !picked) return;
  var LIMIT = 10 * 1024 * 1024;
  var KINDS = ["image/jpeg", "image/png", "image/webp"];

  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) { picked.hidden = true; return; }
    var size = (file.size / (1024 * 1024)).toFixed(1) + " MB";
    var warn = file.size > LIMIT || (file.type && KINDS.indexOf(file.type) < 0);
    picked.textContent = file.name + " · " + size + (warn ? " ⚠" : "");
    picked.className = warn ? "hint warning" : "hint";
    picked.hidden = false;
  });

  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    if (button) {
      window.setTimeout(function () { button.disabled = true; }, 0);
    }
  });
})();

// Tủ Sách — staff pages. Small and optional: every page works without it.
// - Forms marked data-phone-time send this phone's clock (the appliance may have none).
// - Inputs marked data-scan keep the focus, so a USB barcode scanner (which types the code
//   and Enter) can be used without touching the screen.
"use strict";
document.querySelectorAll("form[data-phone-time]").forEach(function (form) {
  form.addEventListener("submit", function () {
    form.querySelector("input[name=phone_time]").value = String(Date.now());
  });
});
var scan = document.querySelector("input[data-scan]");
if (scan) {
  scan.focus();
}

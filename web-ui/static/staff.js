// Tủ Sách — staff pages. Small and optional: every page works without it.
// - Forms marked data-phone-time send this phone's clock (the appliance may have none).
// - Inputs marked data-scan keep the focus, so a USB barcode scanner (which types the code
//   and Enter) can be used without touching the screen.
// - File inputs marked data-max-bytes refuse a file that is too large before it is sent
//   (the server refuses it too, but only after a long upload on a slow link).
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
document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
  input.addEventListener("change", function () {
    var max = Number(input.getAttribute("data-max-bytes"));
    var file = input.files && input.files[0];
    var tooLarge = file && file.size > max;
    input.setCustomValidity(
      tooLarge
        ? (document.documentElement.lang === "en"
            ? "The file is over " + Math.round(max / 1048576) + " MB."
            : "Tệp lớn quá " + Math.round(max / 1048576) + " MB.")
        : ""
    );
    input.reportValidity();
  });
});

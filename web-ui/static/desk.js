// Tủ Sách — the circulation desk. Optional: the desk works without it.
// Where the browser has BarcodeDetector (Chrome on Android), a "scan with the camera" button
// appears; it reads a barcode from the back camera, fills the scan field and submits. Where it
// does not, the button stays hidden and a USB scanner or typing is used.
"use strict";
(function () {
  var button = document.querySelector("button[data-camera]");
  var input = document.querySelector("input[data-scan]");
  if (!button || !input || !("BarcodeDetector" in window) ||
      !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  button.hidden = false;
  var formats = ["code_128", "code_39", "ean_13", "ean_8", "qr_code"];
  button.addEventListener("click", function () {
    var detector;
    try {
      detector = new window.BarcodeDetector({ formats: formats });
    } catch (e) {
      detector = new window.BarcodeDetector();
    }
    var video = document.createElement("video");
    video.setAttribute("playsinline", "");
    video.className = "camera";
    button.parentNode.insertBefore(video, button.nextSibling);
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } })
      .then(function (stream) {
        video.srcObject = stream;
        video.play();
        var stop = function () {
          stream.getTracks().forEach(function (t) { t.stop(); });
          video.remove();
        };
        var look = function () {
          detector.detect(video).then(function (codes) {
            if (codes.length > 0 && codes[0].rawValue) {
              stop();
              input.value = codes[0].rawValue.trim();
              input.form.submit();
            } else {
              window.requestAnimationFrame(look);
            }
          }).catch(function () { window.requestAnimationFrame(look); });
        };
        look();
      })
      .catch(function () { video.remove(); });
  });
})();

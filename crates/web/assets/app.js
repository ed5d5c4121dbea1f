// Twofold's only script: progressive enhancements where a browser API is needed.
// Every page works without it.
(function () {
  "use strict";
  // Compare the browser's clock with the server's; a phone set like this computer would
  // produce codes from another time step.
  var t = document.getElementById("server-time");
  var warn = document.getElementById("clock-warning");
  if (t && warn) {
    var server = Date.parse(t.getAttribute("datetime"));
    var skew = Math.round((Date.now() - server) / 1000);
    if (!isNaN(skew) && Math.abs(skew) > 30) {
      warn.textContent = "Your device's clock differs from the server's by about " +
        Math.abs(skew) + " seconds (" + (skew > 0 ? "ahead" : "behind") +
        "). If codes are refused, set your phone's clock to update automatically.";
      warn.hidden = false;
    }
  }
  // Copy the backup codes to the clipboard.
  var copy = document.getElementById("copy-codes");
  var list = document.getElementById("backup-codes");
  if (copy && list) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var codes = Array.prototype.map.call(list.querySelectorAll("li"), function (li) {
        return li.textContent.trim();
      }).join("\n");
      var done = function () { copy.textContent = "Copied"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(codes).then(done, function () { copy.textContent = "Copy failed"; });
      }
    });
  }
})();

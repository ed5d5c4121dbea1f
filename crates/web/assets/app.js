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
      // The page gives the sentence in its language, "%s" standing for the seconds.
      var said = warn.getAttribute(skew > 0 ? "data-ahead" : "data-behind");
      warn.textContent = said ? said.replace("%s", String(Math.abs(skew)))
        : "Your device's clock differs from the server's by about " + Math.abs(skew) +
          " seconds (" + (skew > 0 ? "ahead" : "behind") +
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
      var done = function () { copy.textContent = copy.getAttribute("data-copied") || "Copied"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(codes).then(done, function () {
          copy.textContent = copy.getAttribute("data-copy-failed") || "Copy failed";
        });
      }
    });
  }
  // Security keys and passkeys: a form marked data-webauthn carries the options the server
  // made; the browser's WebAuthn API answers them, and the answer is posted with the form.
  var b64urlToBytes = function (s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  };
  var bytesToB64url = function (buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  var creationOptions = function (o) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    }
    var c = Object.assign({}, o);
    c.challenge = b64urlToBytes(o.challenge);
    c.user = Object.assign({}, o.user, { id: b64urlToBytes(o.user.id) });
    c.excludeCredentials = (o.excludeCredentials || []).map(function (d) {
      return Object.assign({}, d, { id: b64urlToBytes(d.id) });
    });
    return c;
  };
  var requestOptions = function (o) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    }
    var r = Object.assign({}, o);
    r.challenge = b64urlToBytes(o.challenge);
    r.allowCredentials = (o.allowCredentials || []).map(function (d) {
      return Object.assign({}, d, { id: b64urlToBytes(d.id) });
    });
    return r;
  };
  var credentialJSON = function (c) {
    if (typeof c.toJSON === "function") { return c.toJSON(); }
    var r = c.response, out = {
      id: c.id, rawId: bytesToB64url(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || null,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: bytesToB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = bytesToB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = bytesToB64url(r.authenticatorData);
      out.response.signature = bytesToB64url(r.signature);
      if (r.userHandle) { out.response.userHandle = bytesToB64url(r.userHandle); }
    }
    return out;
  };
  var keyError = document.getElementById("webauthn-error");
  // The page's sentences (data-* of the error box, in the page's language); English if absent.
  var said = function (name, english) {
    return (keyError && keyError.getAttribute("data-" + name)) || english;
  };
  var showKeyError = function (text) {
    if (!keyError) { return; }
    keyError.textContent = text;
    keyError.hidden = false;
  };
  Array.prototype.forEach.call(document.querySelectorAll("form[data-webauthn]"), function (form) {
    var creating = form.getAttribute("data-webauthn") === "create";
    // A form that also takes a typed code asks the key only from its own button.
    var optional = form.hasAttribute("data-webauthn-optional");
    var field = form.querySelector("input[name=credential]");
    var button = form.querySelector("[data-webauthn-button]") ||
      form.querySelector("button[type=submit]");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      if (optional && button) {
        button.hidden = true;
        return;
      }
      if (button) { button.disabled = true; }
      showKeyError(said("unsupported", "This browser does not support security keys or " +
        "passkeys. Use another browser, or another method."));
      return;
    }
    form.addEventListener("submit", function (e) {
      if (field.value) { return; }
      if (optional && e.submitter !== button) { return; }
      e.preventDefault();
      var options;
      try {
        options = JSON.parse(form.getAttribute("data-options"));
      } catch (err) {
        showKeyError(said("unreadable", "The page could not be read. Reload it and try again."));
        return;
      }
      if (keyError) { keyError.hidden = true; }
      if (button) { button.disabled = true; }
      var asked = creating
        ? navigator.credentials.create({ publicKey: creationOptions(options) })
        : navigator.credentials.get({ publicKey: requestOptions(options) });
      asked.then(function (credential) {
        field.value = JSON.stringify(credentialJSON(credential));
        form.submit();
      }, function (err) {
        if (button) { button.disabled = false; }
        var name = err && err.name;
        if (name === "NotAllowedError" || name === "AbortError") {
          showKeyError(said("cancelled", "The security key request was cancelled or timed " +
            "out. Try again when you are ready."));
        } else if (name === "InvalidStateError") {
          showKeyError(said("registered",
            "This security key or passkey is already registered to your account."));
        } else if (name === "SecurityError") {
          showKeyError(said("insecure", "This address cannot use security keys: open the " +
            "server by its host name over https (or http://localhost)."));
        } else {
          var detail = name ? " (" + name + ")" : "";
          showKeyError(said("no-answer", "Your security key or passkey did not answer%s. " +
            "Try again, or use another method.").replace("%s", detail));
        }
      });
    });
  });
})();

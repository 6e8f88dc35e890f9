// The sign-in link page (patchbay/loops/magic_link_confirm.html) submits its own form.
// A person's browser runs this and signs in without a click; a mail scanner that only
// fetches the page runs nothing, so the single-use link is still unused when the person
// opens it. Served by patchbay (patchbay:magic-link-script), from the site's own origin,
// so a Content-Security-Policy of script-src 'self' allows it; the page has no inline
// script. Never from inside a frame: another site must not be able to sign a visitor in.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-patchbay-auto-submit]");
  if (!form || window.top !== window.self || form.getAttribute("data-submitted")) {
    return;
  }
  form.setAttribute("data-submitted", "1");
  form.submit();
});

// Small helpers shared by pages. No external assets: government intranets are offline.
document.addEventListener("click", function (event) {
  var add = event.target.closest("[data-formset-add]");
  if (add) {
    event.preventDefault();
    var prefix = add.getAttribute("data-formset-add");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(prefix + "-empty").innerHTML;
    var index = parseInt(total.value, 10);
    var container = document.getElementById(prefix + "-rows");
    container.insertAdjacentHTML("beforeend", template.replace(/__prefix__/g, index));
    total.value = index + 1;
  }
  var remove = event.target.closest("[data-formset-remove]");
  if (remove) {
    event.preventDefault();
    var row = remove.closest("[data-formset-row]");
    var del = row.querySelector("input[name$='-DELETE']");
    if (del) { del.checked = true; row.style.display = "none"; } else { row.remove(); }
  }
});

// A select marked data-autosubmit sends its form when changed (no inline handlers: the CSP forbids them).
document.addEventListener("change", function (event) {
  if (event.target.matches && event.target.matches("select[data-autosubmit]")) { event.target.form.submit(); }
});

// Phones: the header's menu (navigation, language, inbox, sign-out) folds behind one button.
document.documentElement.classList.add("js");
document.addEventListener("click", function (event) {
  var toggle = event.target.closest && event.target.closest("[data-menu-toggle]");
  if (!toggle) { return; }
  var header = toggle.closest("header");
  var open = !header.classList.contains("menu-open");
  header.classList.toggle("menu-open", open);
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
});

// A form marked data-disable-on-submit greys its buttons once sent (after the browser has read the form).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches || !form.matches("form[data-disable-on-submit]")) { return; }
  setTimeout(function () {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  }, 0);
});

// A message placed next to the thing acted on (core.feedback) is brought into view and focused: after an
// htmx answer replaced its section, with the form below it too (the message at the top of the window when
// its part of the page reaches below it); on a page loaded after a form, where the anchor shows the section.
function showFeedback(msg, withForm) {
  if (!msg) { return; }
  msg.setAttribute("tabindex", "-1");
  msg.focus({preventScroll: true});
  var box = msg.getBoundingClientRect();
  var part = (msg.closest("td, .card") || msg).getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight || (withForm && part.bottom > window.innerHeight)) {
    msg.scrollIntoView({block: withForm ? "start" : "nearest"});
  }
}
document.addEventListener("htmx:afterSettle", function (event) {
  var root = event.target;
  if (!root || !root.querySelector || !root.isConnected) { return; }
  showFeedback(root.matches("[data-feedback]") ? root : root.querySelector("[data-feedback]"), true);
});
window.addEventListener("load", function () { showFeedback(document.querySelector("main [data-feedback]"), false); });

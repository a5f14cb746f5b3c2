// The proposal form's arithmetic as the person types: the milestones' running total against the net funding
// (total − equipment, I9) and each milestone's minimum deposit (the scheme's ratio of its tranche, R5/R7).
// A help only: the server checks the same rules on submission and stays the authority.
//
// Amounts are read as core.money.parse_money reads them and printed as core.money.format_cny prints them,
// in whole fen with BigInt (never floats): "1,200,000", "¥1200000.00", "120万", "120万元", full-width digits.
(function () {
  "use strict";

  var FULL_WIDTH = {"０": "0", "１": "1", "２": "2", "３": "3", "４": "4", "５": "5", "６": "6", "７": "7",
                    "８": "8", "９": "9", "．": ".", "，": ","};
  var TYPED_AMOUNT = /^[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$/;
  var MAX_INTEGER_DIGITS = 12;

  function pow10(n) { return BigInt("1" + "0".repeat(n)); }

  // parse_money: the amount in fen (BigInt), or null where the server would refuse it; "" is empty (null too).
  function parseFen(value) {
    var text = String(value || "").trim().replace(/[０-９．，]/g, function (c) { return FULL_WIDTH[c]; });
    if (text.indexOf("¥") === 0) { text = text.slice(1); }
    if (text.indexOf("￥") === 0) { text = text.slice(1); }
    text = text.trim();
    if (text.slice(-1) === "元") { text = text.slice(0, -1).trimEnd(); }
    var wan = text.slice(-1) === "万";
    if (wan) { text = text.slice(0, -1).trimEnd(); }
    if (!TYPED_AMOUNT.test(text)) { return null; }
    var negative = text.charAt(0) === "-";
    text = text.replace(/^[+-]/, "").replace(/,/g, "");
    var parts = text.split(".");
    var decimals = parts.length > 1 ? parts[1].length : 0;
    var scaled = BigInt(parts[0] + (parts[1] || "")) * (wan ? 10000n : 1n) * 100n;  // fen × 10^decimals
    var unit = pow10(decimals);
    if (scaled % unit !== 0n) { return null; }  // I4: at most two decimals (after 万)
    var fen = scaled / unit;
    if ((fen / 100n).toString().length > MAX_INTEGER_DIGITS) { return null; }
    return negative ? -fen : fen;
  }

  function groups(digits) { return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

  // format_cny: ¥1,200,000.00 (a negative amount as ¥-1.00, as Python's format prints it).
  function formatFen(fen) {
    var negative = fen < 0n;
    var abs = negative ? -fen : fen;
    var cents = (abs % 100n).toString().padStart(2, "0");
    return "¥" + (negative ? "-" : "") + groups((abs / 100n).toString()) + "." + cents;
  }

  // The exact figure the server's R5 message prints (validation._exact_cny): fen when it is whole fen,
  // otherwise every digit. ``value`` is in units of 10^-scale fen.
  function formatExact(value, scale) {
    var unit = pow10(scale);
    if (value % unit === 0n) { return formatFen(value / unit); }
    var abs = value < 0n ? -value : value;
    var digits = abs.toString().padStart(scale + 3, "0");
    var whole = digits.slice(0, digits.length - scale - 2);
    var fraction = digits.slice(digits.length - scale - 2).replace(/0+$/, "");
    return "¥" + (value < 0n ? "-" : "") + groups(whole) + "." + fraction;
  }

  // The scheme's ratio ("0.1000") as an integer over 10^scale.
  function parseRatio(text) {
    if (!/^[0-9]+(?:\.[0-9]+)?$/.test(text || "")) { return null; }
    var parts = text.split(".");
    var scale = parts.length > 1 ? parts[1].length : 0;
    return {value: BigInt(parts[0] + (parts[1] || "")), scale: scale};
  }

  function fieldValue(form, name) {
    var input = form.querySelector("[name='" + name + "']");
    return input ? input.value : "";
  }

  function update(form) {
    var ratio = parseRatio(form.getAttribute("data-deposit-ratio"));
    var sum = 0n;
    var unreadable = false;
    form.querySelectorAll("[data-formset-row]").forEach(function (row) {
      var removed = row.querySelector("input[name$='-DELETE']");
      var amountInput = row.querySelector("input[name$='-amount']");
      var out = row.querySelector("[data-min-deposit] output");
      if (!amountInput || (removed && removed.checked)) { return; }
      var text = amountInput.value.trim();
      var fen = text === "" ? null : parseFen(text);
      if (text !== "" && fen === null) { unreadable = true; }
      if (fen !== null) { sum += fen; }
      if (out) { out.textContent = fen !== null && ratio ? formatExact(fen * ratio.value, ratio.scale) : "—"; }
    });
    var box = document.getElementById("funding-total");
    if (!box) { return; }
    var total = parseFen(fieldValue(form, "total_amount"));
    var equipmentText = fieldValue(form, "equipment_amount").trim();
    var equipment = equipmentText === "" ? 0n : parseFen(equipmentText);
    var net = total !== null && equipment !== null ? total - equipment : null;
    document.getElementById("milestone-sum").textContent = formatFen(sum);
    document.getElementById("net-funding").textContent = net === null ? "—" : formatFen(net);
    var gap = document.getElementById("funding-gap");
    var words;
    if (net === null) {
      words = "—";
    } else if (sum === net) {
      words = box.getAttribute("data-equal");
    } else if (sum < net) {
      words = box.getAttribute("data-short") + " " + formatFen(net - sum);
    } else {
      words = box.getAttribute("data-over") + " " + formatFen(sum - net);
    }
    if (unreadable) { words += " · " + box.getAttribute("data-unreadable"); }
    gap.textContent = words;
    gap.classList.toggle("gap-ok", net !== null && sum === net && !unreadable);
    gap.classList.toggle("gap-off", net !== null && (sum !== net || unreadable));
  }

  function formOf(node) { return node && node.closest ? node.closest("#project-form") : null; }

  document.addEventListener("input", function (event) {
    var form = formOf(event.target);
    if (form) { update(form); }
  });
  // Rows added or removed (app.js handles the click first): count again once it has.
  document.addEventListener("click", function (event) {
    var form = formOf(event.target);
    if (form && event.target.closest("[data-formset-add], [data-formset-remove]")) {
      setTimeout(function () { update(form); }, 0);
    }
  });
  function start() {
    var form = document.getElementById("project-form");
    if (form) { update(form); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }

  window.anxinbaoMoney = {parseFen: parseFen, formatFen: formatFen};  // for the browser tests
})();

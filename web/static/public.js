// The public top-up page: a search box over the school list, and the
// recharge records kept on this phone (localStorage). Everything works
// without it: the school list is a plain select, the order page a page.
// The records hold only what the payer saw: school, masked name, the last
// four characters of the card number, amount, order number and time.
(function () {
  "use strict";
  var RECORDS = "onecard.public.records";
  var DRAFT = "onecard.public.draft";
  var KEEP = 20;

  function load(key, fallback) {
    try {
      var v = JSON.parse(window.localStorage.getItem(key));
      return v === null ? fallback : v;
    } catch (e) {
      return fallback;
    }
  }
  function save(key, value) {
    try {
      if (value === null) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, JSON.stringify(value));
      }
    } catch (e) {
      // Private mode or storage full: the records are a convenience.
    }
  }
  function records() {
    var r = load(RECORDS, []);
    return Array.isArray(r) ? r : [];
  }

  // The school search filters the select's options as the payer types.
  var select = document.getElementById("public-school");
  var search = document.getElementById("public-school-search");
  if (select && search) {
    var all = Array.prototype.slice.call(select.options);
    search.hidden = false;
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      var chosen = select.value;
      while (select.options.length) {
        select.remove(0);
      }
      var first = null;
      all.forEach(function (o) {
        if (o.value === "" || q === "" || o.text.toLowerCase().indexOf(q) >= 0 || o.value.toLowerCase().indexOf(q) >= 0) {
          select.add(o);
          if (o.value !== "" && first === null) {
            first = o;
          }
        }
      });
      var still = Array.prototype.some.call(select.options, function (o) { return o.value === chosen && chosen !== ""; });
      if (still) {
        select.value = chosen;
      } else if (first !== null && q !== "") {
        select.value = first.value;
      } else {
        select.value = "";
      }
    });
  }

  // On the payment form: remember what the payer saw until the order's
  // page gives it a number.
  var form = document.getElementById("public-form");
  if (form) {
    form.addEventListener("submit", function () {
      save(DRAFT, {
        school: form.getAttribute("data-school"),
        schoolCode: form.getAttribute("data-school-code"),
        masked: form.getAttribute("data-masked"),
        tail: form.getAttribute("data-tail"),
        at: Date.now()
      });
    });
  }

  // On the order's page: keep the record.
  var order = document.getElementById("public-order");
  if (order) {
    var no = order.getAttribute("data-no");
    var list = records();
    var rec = null;
    list.forEach(function (r) {
      if (r.no === no) {
        rec = r;
      }
    });
    var draft = load(DRAFT, null);
    if (rec === null) {
      rec = { no: no, school: "", schoolCode: "", masked: "", tail: "" };
      if (draft && Date.now() - draft.at < 2 * 3600 * 1000) {
        rec.school = draft.school || "";
        rec.schoolCode = draft.schoolCode || "";
        rec.masked = draft.masked || "";
        rec.tail = draft.tail || "";
      } else {
        var card = order.getAttribute("data-card") || "";
        rec.tail = card.slice(-4);
      }
      list.unshift(rec);
      save(DRAFT, null);
    }
    rec.amount = order.getAttribute("data-amount");
    rec.time = order.getAttribute("data-time");
    rec.state = order.getAttribute("data-state");
    save(RECORDS, list.slice(0, KEEP));
  }

  // On the first page: list the records, newest first.
  var ul = document.getElementById("public-records");
  if (ul) {
    var shown = records();
    if (shown.length > 0) {
      shown.forEach(function (r) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = "/topup/" + encodeURIComponent(r.no);
        var parts = [r.school, r.masked, r.tail ? "****" + r.tail : "", r.amount, r.time].filter(function (p) { return p; });
        a.textContent = parts.join(" · ");
        li.appendChild(a);
        var word = ul.getAttribute("data-state-" + r.state);
        if (word) {
          li.appendChild(document.createTextNode(" · " + word));
        }
        ul.appendChild(li);
      });
      document.getElementById("public-records-card").hidden = false;
    }
    var clear = document.getElementById("public-records-clear");
    if (clear) {
      clear.addEventListener("click", function () {
        save(RECORDS, null);
        while (ul.firstChild) {
          ul.removeChild(ul.firstChild);
        }
        document.getElementById("public-records-card").hidden = true;
      });
    }
  }

  // "+ top up another card": start from an empty form.
  var another = document.getElementById("public-another");
  if (another) {
    another.addEventListener("click", function () {
      save(DRAFT, null);
      Array.prototype.forEach.call(document.forms, function (f) {
        if (f.id === "public-lookup-form" || f.id === "public-form") {
          f.reset();
        }
      });
      if (select) {
        select.value = "";
      }
    });
  }
})();

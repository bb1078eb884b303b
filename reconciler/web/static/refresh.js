// Auto-refresh without losing the scroll position: every N seconds (body[data-refresh]) fetch this
// same page and swap the contents of <main> in place. Open <details> stay open, the focused form
// field is left alone, and nothing happens while the tab is hidden.
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (!seconds || seconds < 2) { return; }

  function openDetails(root) {
    var ids = [];
    root.querySelectorAll("details[id][open]").forEach(function (d) { ids.push(d.id); });
    return ids;
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
    var main = document.getElementById("main");
    if (!fresh || !main) { return; }
    var keep = openDetails(main);
    var scrollers = Array.prototype.map.call(main.querySelectorAll(".matrix-wrap"), function (el) {
      return [el.scrollTop, el.scrollLeft];
    });
    main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes));
    keep.forEach(function (id) { var d = document.getElementById(id); if (d) { d.open = true; } });
    main.querySelectorAll(".matrix-wrap").forEach(function (el, i) {
      if (scrollers[i]) { el.scrollTop = scrollers[i][0]; el.scrollLeft = scrollers[i][1]; }
    });
  }

  function tick() {
    var active = document.activeElement;
    if (document.hidden || (active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName))) { return; }
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "refresh" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html) { swap(html); } })
      .catch(function () { /* the next tick tries again */ });
  }

  window.setInterval(tick, seconds * 1000);
})();

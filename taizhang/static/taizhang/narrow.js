/* A box before each <select data-filter="placeholder"> that narrows its options as one types:
   an option stays when its text, or its group's label, holds every word typed; the empty
   choice and the chosen option always stay. Plain script, no library: without it the list is
   the same list, grouped and sorted by the server. */
(function () {
  "use strict";

  function matches(option, label, words, chosen) {
    if (!option.value || option.value === chosen) {
      return true;
    }
    var text = (option.textContent + " " + label).toLowerCase();
    return words.every(function (word) { return text.indexOf(word) !== -1; });
  }

  function narrow(select, all, words) {
    var chosen = select.value;
    var kept = document.createDocumentFragment();
    all.forEach(function (node) {
      if (node.tagName === "OPTGROUP") {
        var group = node.cloneNode(false);
        Array.prototype.forEach.call(node.children, function (option) {
          if (matches(option, node.label, words, chosen)) {
            group.appendChild(option.cloneNode(true));
          }
        });
        if (group.children.length) {
          kept.appendChild(group);
        }
      } else if (matches(node, "", words, chosen)) {
        kept.appendChild(node.cloneNode(true));
      }
    });
    // Rebuilt rather than hidden: phones show hidden options in their pickers.
    select.replaceChildren(kept);
    select.value = chosen;
  }

  function setUp(select) {
    var all = Array.prototype.map.call(select.children, function (node) { return node.cloneNode(true); });
    var box = document.createElement("input");
    box.type = "search";
    box.className = "narrow";
    box.placeholder = select.dataset.filter;
    box.setAttribute("aria-label", select.dataset.filter);
    box.addEventListener("input", function () {
      narrow(select, all, box.value.toLowerCase().split(/\s+/).filter(Boolean));
    });
    select.parentNode.insertBefore(box, select);
  }

  function start() {
    document.querySelectorAll("select[data-filter]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());

document.querySelectorAll("[data-fold]").forEach(function (bar) {
  bar.hidden = false;
  bar.querySelectorAll("button").forEach(function (button) {
    button.addEventListener("click", function () {
      var open = button.dataset.open === "1";
      document.querySelectorAll(bar.dataset.fold).forEach(function (d) { d.open = open; });
    });
  });
});

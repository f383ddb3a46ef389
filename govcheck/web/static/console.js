// govcheck 监测台: the only script the console runs (no framework, no build step).
// Select-all boxes, the selected-count label, and scan pickers that submit on change.
document.addEventListener("DOMContentLoaded", function () {
  function boxes(form) { return Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][name=ids]")); }
  function refresh(form) {
    var n = boxes(form).filter(function (b) { return b.checked; }).length;
    form.querySelectorAll("[data-selcount]").forEach(function (el) { el.textContent = n ? "已选中 " + n + " 条" : "未选中"; });
  }
  document.querySelectorAll("form").forEach(function (form) {
    if (!form.querySelector("input[name=ids][type=checkbox]")) return;
    form.addEventListener("change", function (ev) {
      var t = ev.target;
      if (t.hasAttribute("data-selectall")) {
        var table = t.closest("table");
        table.querySelectorAll("input[type=checkbox][name=ids]").forEach(function (b) { b.checked = t.checked; });
      }
      refresh(form);
    });
    refresh(form);
  });
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
});

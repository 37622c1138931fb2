/*
 * The portal's keyboard shortcuts, and the agreement that follows from a chosen label in this project's
 * task template. Keys: 1 / 0 choose the positive / negative class (this project's template), a / d agree
 * or disagree, 1-9 choose the nth option of other templates' first radio group or classifier, and
 * Ctrl+Enter (or Cmd+Enter) submits. Single keys do nothing while typing in a text field.
 */
(function () {
  "use strict";

  function form() {
    return document.querySelector("crowd-form");
  }

  function typing(target) {
    if (!target || !target.closest) return false;
    if (target.closest("textarea, select, [contenteditable]")) return true;
    var input = target.closest("input");
    return !!input && ["radio", "checkbox", "button", "submit"].indexOf((input.type || "").toLowerCase()) < 0;
  }

  function button(name) {
    return document.querySelector('crowd-radio-button[name="' + name + '"]');
  }

  function choose(element) {
    if (!element) return;
    element.checked = true;
    var control = element.querySelector("input");
    if (control) control.focus();
  }

  function options() {
    var group = document.querySelector("crowd-radio-group");
    if (group) return Array.prototype.slice.call(group.querySelectorAll("crowd-radio-button"));
    var classifier = document.querySelector("crowd-classifier");
    if (classifier) return Array.prototype.slice.call(classifier.querySelectorAll('input[type="radio"]'));
    return [];
  }

  function pick(option) {
    if (!option) return;
    if (option.tagName.toLowerCase() === "crowd-radio-button") choose(option);
    else {
      option.checked = true;
      option.focus();
    }
  }

  /* This project's template: the agreement follows the chosen label (the reviewer may still change it). */
  document.addEventListener("change", function (event) {
    var predicted = document.body.getAttribute("data-predicted-label");
    var chosen = event.target.closest && event.target.closest("crowd-radio-button");
    if (predicted === null || !chosen || !chosen.checked) return;
    var name = chosen.getAttribute("name");
    if (name !== "label-positive" && name !== "label-negative") return;
    var agrees = chosen.getAttribute("value") === predicted;
    var agree = button("agree");
    var disagree = button("disagree");
    var follows = agrees ? agree : disagree;
    if (agree && disagree && !follows.checked) follows.checked = true;
  });

  document.addEventListener("keydown", function (event) {
    var crowd = form();
    if (!crowd || !crowd.form) return;
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      crowd.submit();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var positive = button("label-positive");
    var negative = button("label-negative");
    var key = event.key.toLowerCase();
    if (positive && negative) {
      if (key === "1") choose(positive);
      else if (key === "0") choose(negative);
      else if (key === "a") choose(button("agree"));
      else if (key === "d") choose(button("disagree"));
      else return;
    } else if (/^[1-9]$/.test(key)) {
      pick(options()[parseInt(key, 10) - 1]);
    } else {
      return;
    }
    event.preventDefault();
  });
})();

/*
 * Crowd HTML Elements, this project's own small stand-ins (no code of AWS's bundle), for A2I task
 * templates shown by the reviewer portal. Each element keeps A2I's tag, attributes and output shape
 * (docs/human-review.md, "Crowd elements"); crowd-form submits one field, taskAnswers: a JSON array
 * holding one object, which A2I stores as answerContent. Elements render in the light DOM, with native
 * controls inside, so they work with the keyboard, screen readers and the page's own styles.
 */
(function () {
  "use strict";

  var INTERNAL = "data-crowd-internal";
  var groups = 0;

  function firstTime(element) {
    if (element.__crowdReady) return false;
    element.__crowdReady = true;
    return true;
  }

  function attribute(element, name, fallback) {
    var value = element.getAttribute(name);
    return value === null ? fallback : value;
  }

  function moveChildren(from, to) {
    while (from.firstChild) to.appendChild(from.firstChild);
  }

  function make(tag, properties) {
    var element = document.createElement(tag);
    Object.keys(properties || {}).forEach(function (key) {
      element[key] = properties[key];
    });
    return element;
  }

  function internal(tag, className) {
    var element = document.createElement(tag);
    element.setAttribute(INTERNAL, "");
    if (className) element.className = className;
    return element;
  }

  function hidden(name, value) {
    return make("input", { type: "hidden", name: name, value: value });
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* "['a', 'b']" (A2I's examples) or '["a", "b"]' -> ["a", "b"] */
  function parseCategories(text) {
    if (!text) return [];
    try {
      var parsed = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch (e) {
      /* A2I's examples quote with single quotes: read each quoted string */
    }
    var found = [];
    var quoted = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g;
    var match;
    while ((match = quoted.exec(text)) !== null) {
      found.push((match[1] !== undefined ? match[1] : match[2]).replace(/\\(.)/g, "$1"));
    }
    return found;
  }

  function mergeChoice(answers, name, value, checked) {
    if (typeof answers[name] !== "object" || answers[name] === null || Array.isArray(answers[name])) {
      answers[name] = {};
    }
    answers[name][value] = checked;
  }

  /* What crowd-form submits: every named crowd element and native control in the form, in document order. */
  function collect(root) {
    var answers = {};
    var selector =
      "crowd-radio-button, crowd-checkbox, crowd-input, crowd-text-area, crowd-classifier, input, textarea, select";
    Array.prototype.forEach.call(root.querySelectorAll(selector), function (element) {
      if (element.closest("[" + INTERNAL + "]")) return; /* a crowd element's own control */
      var name = element.getAttribute("name");
      if (!name) return;
      var tag = element.tagName.toLowerCase();
      if (tag === "crowd-radio-button" || tag === "crowd-checkbox") {
        mergeChoice(answers, name, element.value, element.checked);
      } else if (tag === "crowd-input" || tag === "crowd-text-area") {
        answers[name] = element.value;
      } else if (tag === "crowd-classifier") {
        answers[name] = { label: element.value };
      } else if (tag === "input") {
        var type = (element.type || "text").toLowerCase();
        if (type === "radio" || type === "checkbox") {
          mergeChoice(answers, name, element.value, element.checked);
        } else if (["submit", "button", "reset", "image", "file"].indexOf(type) < 0) {
          answers[name] = element.value;
        }
      } else if (tag === "select" && element.multiple) {
        answers[name] = Array.prototype.filter
          .call(element.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        answers[name] = element.value;
      }
    });
    return answers;
  }

  class CrowdForm extends HTMLElement {
    connectedCallback() {
      if (!firstTime(this)) return;
      var form = internal("form", "crowd-form");
      form.removeAttribute(INTERNAL); /* its controls are the template's own */
      form.method = "post";
      moveChildren(this, form);
      var hasSubmit = form.querySelector(
        'crowd-button[form-action="submit"], button[type="submit"], input[type="submit"]'
      );
      if (!hasSubmit) {
        var button = document.createElement("crowd-button");
        button.setAttribute("form-action", "submit");
        button.setAttribute("variant", "primary");
        button.textContent = "Submit";
        form.appendChild(button);
      }
      this.appendChild(form);
      this.form = form;
      var self = this;
      form.addEventListener("submit", function (event) {
        event.preventDefault(); /* native checks (required, patterns) have passed when this fires */
        self.send();
      });
    }

    /* Post taskAnswers (and the portal's CSRF token) alone, so a template's own fields, which may repeat
       names, are sent only inside the answer, as A2I does. */
    send() {
      if (this.__sent) return;
      var post = make("form", { method: "post" });
      post.action = window.location.pathname;
      post.hidden = true;
      post.appendChild(hidden("taskAnswers", JSON.stringify([collect(this.form)])));
      post.appendChild(hidden("csrf_token", csrfToken()));
      document.body.appendChild(post);
      this.__sent = true;
      Array.prototype.forEach.call(this.form.querySelectorAll("button"), function (b) { b.disabled = true; });
      post.submit();
    }

    submit() {
      if (this.form.reportValidity()) this.send();
    }
  }

  class CrowdButton extends HTMLElement {
    connectedCallback() {
      if (!firstTime(this)) return;
      var action = attribute(this, "form-action", "");
      var button = internal("button", "crowd-button crowd-button-" + attribute(this, "variant", "normal"));
      button.type = action === "submit" ? "submit" : action === "reset" ? "reset" : "button";
      button.disabled = this.hasAttribute("disabled");
      moveChildren(this, button);
      this.appendChild(button);
    }
  }

  class CrowdRadioGroup extends HTMLElement {
    connectedCallback() {
      if (!firstTime(this)) return;
      this.setAttribute("role", "radiogroup");
      if (!this.__crowdName) this.__crowdName = "crowd-radio-" + ++groups;
    }
  }

  class Choice extends HTMLElement {
    build(type, groupName) {
      var label = internal("label", "crowd-choice");
      var input = make("input", { type: type, value: attribute(this, "value", "on") });
      if (groupName) input.name = groupName;
      input.checked = this.hasAttribute("checked");
      input.disabled = this.hasAttribute("disabled");
      var text = document.createElement("span");
      moveChildren(this, text);
      label.appendChild(input);
      label.appendChild(text);
      this.appendChild(label);
      this._input = input;
    }
    get name() { return attribute(this, "name", ""); }
    get value() { return attribute(this, "value", "on"); }
    get checked() { return this._input ? this._input.checked : this.hasAttribute("checked"); }
    set checked(on) {
      if (this._input) {
        this._input.checked = !!on;
        this._input.dispatchEvent(new Event("change", { bubbles: true }));
      } else if (on) this.setAttribute("checked", "");
      else this.removeAttribute("checked");
    }
  }

  class CrowdRadioButton extends Choice {
    connectedCallback() {
      if (!firstTime(this)) return;
      var group = this.closest("crowd-radio-group");
      var groupName;
      if (group) {
        if (!group.__crowdName) group.__crowdName = "crowd-radio-" + ++groups;
        groupName = group.__crowdName;
      } else {
        groupName = "crowd-radio-" + ++groups;
      }
      this.build("radio", groupName);
    }
  }

  class CrowdCheckbox extends Choice {
    connectedCallback() {
      if (!firstTime(this)) return;
      this.build("checkbox", null);
    }
  }

  class Field extends HTMLElement {
    build(control) {
      var label = internal("label", "crowd-field");
      var caption = attribute(this, "label", "");
      if (caption) {
        var text = document.createElement("span");
        text.textContent = caption;
        label.appendChild(text);
      }
      if (this.hasAttribute("placeholder")) control.placeholder = this.getAttribute("placeholder");
      if (this.hasAttribute("required")) control.required = true;
      if (this.hasAttribute("disabled")) control.disabled = true;
      if (this.hasAttribute("max-length")) control.maxLength = parseInt(this.getAttribute("max-length"), 10);
      if (this.hasAttribute("min-length")) control.minLength = parseInt(this.getAttribute("min-length"), 10);
      if (this.hasAttribute("auto-focus")) control.autofocus = true;
      control.value = attribute(this, "value", "");
      label.appendChild(control);
      this.textContent = "";
      this.appendChild(label);
      this._control = control;
    }
    get name() { return attribute(this, "name", ""); }
    get value() { return this._control ? this._control.value : attribute(this, "value", ""); }
    set value(text) { if (this._control) this._control.value = text; else this.setAttribute("value", text); }
  }

  class CrowdInput extends Field {
    connectedCallback() {
      if (!firstTime(this)) return;
      var input = document.createElement("input");
      input.type = attribute(this, "type", "text");
      if (this.hasAttribute("allowed-pattern")) input.pattern = this.getAttribute("allowed-pattern");
      this.build(input);
    }
  }

  class CrowdTextArea extends Field {
    connectedCallback() {
      if (!firstTime(this)) return;
      var area = document.createElement("textarea");
      area.rows = parseInt(attribute(this, "rows", "3"), 10) || 3;
      this.build(area);
    }
  }

  class CrowdClassifier extends HTMLElement {
    connectedCallback() {
      if (!firstTime(this)) return;
      var name = "crowd-classifier-" + ++groups;
      var box = internal("fieldset", "crowd-classifier");
      var header = attribute(this, "header", "");
      if (header) box.appendChild(make("legend", { textContent: header }));
      var target = this.querySelector("classification-target");
      var full = this.querySelector("full-instructions");
      var brief = this.querySelector("short-instructions");
      if (brief) box.appendChild(brief);
      if (full) {
        var details = document.createElement("details");
        details.appendChild(make("summary", { textContent: attribute(full, "header", "Full instructions") }));
        details.appendChild(full);
        box.appendChild(details);
      }
      if (target) box.appendChild(target);
      this._inputs = parseCategories(this.getAttribute("categories")).map(function (category, n) {
        var label = make("label", { className: "crowd-choice" });
        var input = make("input", { type: "radio", name: name, value: category, required: n === 0 });
        label.appendChild(input);
        label.appendChild(make("span", { textContent: category }));
        box.appendChild(label);
        return input;
      });
      this.textContent = "";
      this.appendChild(box);
    }
    get name() { return attribute(this, "name", ""); }
    get value() {
      var chosen = (this._inputs || []).filter(function (i) { return i.checked; })[0];
      return chosen ? chosen.value : null;
    }
  }

  class CrowdInstructions extends HTMLElement {
    connectedCallback() {
      if (!firstTime(this)) return;
      var details = internal("details", "crowd-instructions");
      details.removeAttribute(INTERNAL);
      details.appendChild(make("summary", { textContent: attribute(this, "link-text", "Instructions") }));
      moveChildren(this, details);
      this.appendChild(details);
    }
  }

  class CrowdAlert extends HTMLElement {
    connectedCallback() {
      if (!firstTime(this)) return;
      var type = attribute(this, "type", "info");
      this.setAttribute("role", type === "error" || type === "warning" ? "alert" : "status");
      this.classList.add("crowd-alert", "crowd-alert-" + type);
      if (this.hasAttribute("dismissible")) {
        var self = this;
        var close = internal("button", "crowd-alert-close");
        close.type = "button";
        close.textContent = "×";
        close.setAttribute("aria-label", "Dismiss");
        close.addEventListener("click", function () { self.hidden = true; });
        this.appendChild(close);
      }
    }
  }

  var elements = {
    "crowd-form": CrowdForm,
    "crowd-button": CrowdButton,
    "crowd-radio-group": CrowdRadioGroup,
    "crowd-radio-button": CrowdRadioButton,
    "crowd-checkbox": CrowdCheckbox,
    "crowd-input": CrowdInput,
    "crowd-text-area": CrowdTextArea,
    "crowd-classifier": CrowdClassifier,
    "crowd-instructions": CrowdInstructions,
    "crowd-alert": CrowdAlert,
  };
  /* Inner elements first, so crowd-form finds its submit button already built when it moves its children. */
  [
    "crowd-radio-group", "crowd-radio-button", "crowd-checkbox", "crowd-input", "crowd-text-area",
    "crowd-classifier", "crowd-instructions", "crowd-alert", "crowd-button", "crowd-form",
  ].forEach(function (tag) {
    if (!customElements.get(tag)) customElements.define(tag, elements[tag]);
  });
  window.crowdElementsCollect = collect; /* for tests and the portal's shortcuts */
})();

/* The review editor, progressively enhanced: without this file every segment is a plain
   form. With it, segments save in place (fetch + ETag), typed text survives errors and
   conflicts, placeables are inserted by click or Ctrl+digit, the preview follows the text,
   and the keyboard drives everything. Messages come from data-msg-* attributes of
   #segments, localized by the server: no English lives here. Loaded with `defer`. */
(function () {
  "use strict";

  var list = document.getElementById("segments");
  if (!list) { return; }
  // The server's normalize_tokens reads the same: an IME's full-width braces, slash and
  // digits, spaces inside the braces.
  var TOKEN = /[{\uFF5B][ \u3000]*([\/\uFF0F]?)[ \u3000]*([0-9\uFF10-\uFF19]+)[ \u3000]*[}\uFF5D]/g;
  function asciiDigits(text) {
    return text.replace(/[\uFF10-\uFF19]/g, function (d) {
      return String.fromCharCode(d.charCodeAt(0) - 0xFF10 + 48);
    });
  }

  function msg(name, values) {
    var text = list.getAttribute("data-msg-" + name) || "";
    if (values) {
      Object.keys(values).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    }
    return text;
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function items() { return Array.prototype.slice.call(list.querySelectorAll("li.segment")); }
  function segmentOf(node) { return node && node.closest ? node.closest("li.segment") : null; }
  function textareaOf(li) { return li ? li.querySelector("textarea[name=target]") : null; }
  function formOf(li) { return li ? li.querySelector("form.segment-form") : null; }
  function isDirty(ta) { return ta.value !== (ta.getAttribute("data-saved") || ""); }
  function isTextField(node) {
    if (!node || !node.tagName) { return false; }
    var tag = node.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || node.isContentEditable ||
      (tag === "INPUT" && !/^(button|submit|reset|checkbox|radio|hidden)$/i.test(node.type));
  }

  // ---- growing textareas, mirror line of placeables --------------------------------------

  function grow(ta) {
    ta.style.height = "auto";
    ta.style.height = (ta.scrollHeight + 2) + "px";
  }
  function chipLabels(li) {
    var labels = {};
    li.querySelectorAll(".palette .chip-insert").forEach(function (b) {
      labels[b.getAttribute("data-token")] = { label: b.getAttribute("data-label"), title: b.title };
    });
    return labels;
  }
  function renderMirror(li) {
    var ta = textareaOf(li);
    var mirror = li.querySelector(".mirror");
    if (!ta || !mirror) { return; }
    var labels = chipLabels(li);
    var text = ta.value;
    mirror.textContent = "";
    TOKEN.lastIndex = 0;
    var last = 0, found = false, m;
    while ((m = TOKEN.exec(text)) !== null) {
      found = true;
      if (m.index > last) { mirror.appendChild(document.createTextNode(text.slice(last, m.index))); }
      var id = asciiDigits(m[2]);
      var token = "{" + (m[1] ? "/" : "") + id + "}";
      var known = labels[token];
      var role = m[1] ? "close" : (labels["{/" + id + "}"] ? "open" : "void");
      var chip = el("span", "chip chip-" + role + (known ? "" : " chip-unknown"),
        known ? known.label : token);
      chip.title = known ? known.title : token + " — " + msg("unknown-chip");
      mirror.appendChild(chip);
      last = m.index + m[0].length;
    }
    if (last < text.length) { mirror.appendChild(document.createTextNode(text.slice(last))); }
    mirror.hidden = !found;
  }

  function setup(li) {
    li.querySelectorAll("[data-js-only]").forEach(function (n) { n.hidden = false; });
    var ta = textareaOf(li);
    if (ta) { grow(ta); }
    renderMirror(li);
  }

  // ---- inserting text --------------------------------------------------------------------

  function insertAtCaret(ta, text) {
    ta.focus();
    var ok = false;
    try { ok = document.execCommand("insertText", false, text); } catch (e) { ok = false; }
    if (!ok) {
      ta.setRangeText(text, ta.selectionStart, ta.selectionEnd, "end");
      ta.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }
  function replaceAll(ta, text) {
    ta.focus();
    ta.select();
    var ok = false;
    try { ok = document.execCommand("insertText", false, text); } catch (e) { ok = false; }
    if (!ok || ta.value !== text) {
      ta.value = text;
      ta.dispatchEvent(new Event("input", { bubbles: true }));
    }
    ta.setSelectionRange(text.length, text.length);
  }
  function insertChip(li, n) {
    var buttons = li.querySelectorAll(".palette .chip-insert");
    if (n < 1 || n > buttons.length) { return false; }
    insertAtCaret(textareaOf(li), buttons[n - 1].getAttribute("data-token"));
    return true;
  }
  function insertSuggestion(li, n) {
    var s = li.querySelectorAll(".suggestions .suggestion")[n - 1];
    if (!s) { return false; }
    replaceAll(textareaOf(li), s.getAttribute("data-target") || "");
    return true;
  }

  // ---- navigation ------------------------------------------------------------------------

  function focusSegment(li, caretAtEnd) {
    var ta = textareaOf(li);
    if (!ta) { return; }
    ta.focus({ preventScroll: true });
    if (caretAtEnd) { ta.setSelectionRange(ta.value.length, ta.value.length); }
    li.scrollIntoView({ block: "center" });
  }
  function currentIndex() {
    var all = items(), active = segmentOf(document.activeElement);
    if (active) { return all.indexOf(active); }
    var hash = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    return hash ? all.indexOf(hash) : -1;
  }
  /* Alt+arrows land in the next textarea; j/k land on the segment itself (outside the text
     field, so the next j/k moves on instead of typing; Enter then enters its textarea). */
  function move(step, intoTextarea) {
    var all = items();
    if (!all.length) { return; }
    var i = currentIndex();
    var next = i < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, i + step));
    if (intoTextarea) {
      focusSegment(all[next], true);
    } else {
      all[next].focus({ preventScroll: true });
      all[next].scrollIntoView({ block: "center" });
    }
  }
  function nextUnapproved(li) {
    var all = items(), start = all.indexOf(li);
    for (var k = 1; k <= all.length; k++) {
      var other = all[(start + k) % all.length];
      if (other !== li && !other.classList.contains("approved")) { return other; }
    }
    return null;
  }

  // ---- saving in place -------------------------------------------------------------------

  function showMessages(li, lines, kind) {
    var box = li.querySelector(".messages");
    if (!box) { return; }
    box.textContent = "";
    if (!lines || !lines.length) { return; }
    var wrap = el("div", kind === "error" ? "refusal" : "notice");
    if (kind === "error") {
      var head = el("p");
      var icon = el("span", "qa-icon icon-error", "\u2716");
      icon.setAttribute("aria-hidden", "true");
      head.appendChild(icon);
      head.appendChild(document.createTextNode(" "));
      head.appendChild(el("strong", null, msg("not-saved")));
      wrap.appendChild(head);
      var ul = el("ul");
      lines.forEach(function (line) { ul.appendChild(el("li", null, line)); });
      wrap.appendChild(ul);
      wrap.appendChild(el("p", null, msg("kept")));
    } else {
      wrap.appendChild(el("p", null, lines.join(" ")));
    }
    box.appendChild(wrap);
  }

  function updateTotals(data) {
    var progress = document.getElementById("progress");
    if (progress && typeof data.approved === "number") {
      progress.value = data.approved;
      if (typeof data.total === "number") { progress.max = data.total; }
      var text = document.getElementById("progress-text");
      if (text) {
        text.textContent = msg("progress").split("9999991").join(String(data.approved))
          .split("9999992").join(String(data.total));
      }
    }
    var publication = document.getElementById("publication");
    if (publication && data.publication) { publication.textContent = data.publication; }
  }

  /* Put the server's new <li> in place of the old one; this segment only. `keepTyped`
     keeps what is in the field (a dismissal does not change the text). */
  function replaceSegment(li, html, keepTyped) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    var fresh = tpl.content.querySelector("li.segment");
    if (!fresh) { return li; }
    var old = textareaOf(li), typed = old ? old.value : null;
    li.replaceWith(fresh);
    var ta = textareaOf(fresh);
    if (keepTyped && ta && typed !== null) { ta.value = typed; }
    setup(fresh);
    return fresh;
  }

  function problemLines(problem) {
    var lines = [];
    (problem.errors || []).forEach(function (e) { if (e && e.detail) { lines.push(e.detail); } });
    if (!lines.length && problem.detail) { lines.push(problem.detail); }
    if (!lines.length && problem.title) { lines.push(problem.title); }
    return lines;
  }

  function showConflict(li, theirs, action) {
    var key = li.getAttribute("data-key");
    var ta = textareaOf(li);
    var old = li.querySelector(".conflict-view");
    if (old) { old.remove(); }
    var actor = theirs.actor || msg("someone");
    var view = el("div", "conflict-view");
    view.id = "conflict-" + key;
    view.setAttribute("role", "group");
    var title = el("p", "conflict-title");
    title.id = "conflict-title-" + key;
    title.setAttribute("role", "alert");
    title.appendChild(el("strong", null, msg("conflict", { actor: actor })));
    title.appendChild(document.createTextNode(" " + msg("conflict-hint")));
    view.setAttribute("aria-labelledby", title.id);
    view.appendChild(title);
    var versions = el("div", "versions");
    var mine = el("div", "mine");
    mine.appendChild(el("h3", null, msg("yours")));
    var mineText = el("p", null, ta.value);
    mineText.lang = list.getAttribute("data-lang");
    mine.appendChild(mineText);
    var other = el("div", "theirs");
    other.appendChild(el("h3", null, msg("theirs", { actor: actor }) + " · " +
      (msg("status-" + theirs.status) || theirs.status || "")));
    var theirText = el("p", null, theirs.target || "");
    theirText.lang = list.getAttribute("data-lang");
    other.appendChild(theirText);
    versions.appendChild(mine);
    versions.appendChild(other);
    view.appendChild(versions);
    var actions = el("div", "conflict-actions");
    var keep = el("button", "keep-mine", msg("keep-mine"));
    keep.type = "button";
    var take = el("button", "take-theirs", msg("take-theirs"));
    take.type = "button";
    var merge = el("button", "merge", msg("merge"));
    merge.type = "button";
    actions.appendChild(keep);
    actions.appendChild(take);
    actions.appendChild(merge);
    view.appendChild(actions);
    var form = formOf(li);
    var etag = form.querySelector("input[name=etag]");
    keep.addEventListener("click", function () {
      etag.value = theirs.etag;
      view.remove();
      submitSegment(form, action || "save");
    });
    take.addEventListener("click", function () {
      var fresh = theirs.html ? replaceSegment(li, theirs.html, false) : li;
      if (!theirs.html) { ta.value = theirs.target || ""; ta.setAttribute("data-saved", ta.value); etag.value = theirs.etag; view.remove(); }
      focusSegment(fresh, true);
    });
    merge.addEventListener("click", function () {
      etag.value = theirs.etag;
      mine.remove();
      keep.remove();
      merge.remove();
      title.appendChild(document.createTextNode(" " + msg("merge-hint")));
      focusSegment(li, true);
    });
    var pair = li.querySelector(".pair");
    pair.parentNode.insertBefore(view, pair.nextSibling);
    li.classList.add("conflicted");
  }

  var busy = new WeakMap();

  function submitSegment(form, action, submitter, after) {
    var li = segmentOf(form);
    if (!li || busy.get(li)) { return; }
    var ta = textareaOf(li);
    var isDismiss = form.classList.contains("dismiss-form");
    var data = new FormData(form);
    if (!isDismiss) { data.set("action", action); }
    var token = data.get("csrf_token") || "";
    busy.set(li, true);
    li.setAttribute("aria-busy", "true");
    var hadFocus = li.contains(document.activeElement);
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token },
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("json") < 0) {
        // Not the server's answer (a proxy's error page): say so, keep every text here.
        return { status: response.status, body: {} };
      }
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (result) {
      if (!result) { return; }
      busy.delete(li);
      li.removeAttribute("aria-busy");
      var body = result.body || {};
      if (result.status === 200 && body.html) {
        var fresh = replaceSegment(li, body.html, isDismiss);
        updateTotals(body);
        schedulePreview();
        if (after === "next" || (action === "approve" && !isDismiss && after !== "stay")) {
          var next = nextUnapproved(fresh);
          focusSegment(next || fresh, true);
        } else if (hadFocus || after === "stay" || isDismiss) {
          focusSegment(fresh, true);
        }
        var box = fresh.querySelector(".messages");
        if (box && !isDismiss) { showMessages(fresh, [msg(doneMessage(action, body))], "notice"); }
        return;
      }
      if (result.status === 412 && body.theirs) {
        showConflict(li, body.theirs, action);
        updateTotals(body);
        if (ta) { ta.focus({ preventScroll: true }); }
        return;
      }
      var lines = problemLines(body);
      showMessages(li, lines.length ? lines : [msg("failed")], "error");
      if (ta) { ta.setAttribute("aria-invalid", "true"); ta.focus({ preventScroll: true }); }
    }).catch(function () {
      busy.delete(li);
      li.removeAttribute("aria-busy");
      showMessages(li, [msg("network")], "error");
    });
  }

  function doneMessage(action, body) {
    if (action === "approve") { return "approved"; }
    if (action === "reject") { return body.target ? "rejected" : "rejected-pending"; }
    return "saved";
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form.segment-form, form.dismiss-form")) { return; }
    if (!window.fetch || !window.FormData) { return; }
    e.preventDefault();
    var submitter = e.submitter;
    var action = submitter && submitter.name === "action" ? submitter.value : "save";
    submitSegment(form, action, submitter);
  });

  // ---- typing ----------------------------------------------------------------------------

  list.addEventListener("input", function (e) {
    var ta = e.target;
    if (ta.tagName !== "TEXTAREA") { return; }
    grow(ta);
    var li = segmentOf(ta);
    if (li) { renderMirror(li); li.classList.toggle("dirty", isDirty(ta)); }
    schedulePreview();
  });

  list.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("button") : null;
    if (!button) { return; }
    var li = segmentOf(button);
    if (!li) { return; }
    if (button.classList.contains("chip-insert")) {
      e.preventDefault();
      insertAtCaret(textareaOf(li), button.getAttribute("data-token"));
    } else if (button.classList.contains("insert-suggestion")) {
      e.preventDefault();
      insertSuggestion(li, parseInt(button.getAttribute("data-index"), 10));
    }
  });

  // ---- the keyboard ----------------------------------------------------------------------

  var shortcuts = document.getElementById("shortcuts-dialog");
  function openDialog(dialog) {
    if (dialog && !dialog.open && dialog.showModal) { dialog.showModal(); }
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.isComposing) { return; }
    var target = e.target;
    var li = segmentOf(target);
    var inTextarea = target.tagName === "TEXTAREA" && li;
    var ctrl = e.ctrlKey || e.metaKey;
    if (document.querySelector("dialog[open]")) { return; }

    if (e.altKey && !ctrl && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      move(e.key === "ArrowDown" ? 1 : -1, true);
      return;
    }
    if (ctrl && !e.altKey && e.key === "Enter" && li) {
      e.preventDefault();
      submitSegment(formOf(li), "approve", null, "next");
      return;
    }
    if (ctrl && !e.altKey && (e.key === "s" || e.key === "S") && li) {
      e.preventDefault();
      submitSegment(formOf(li), "save", null, "stay");
      return;
    }
    if (inTextarea && ctrl && !e.altKey && !e.shiftKey && /^[1-9]$/.test(e.key)) {
      if (insertChip(li, parseInt(e.key, 10))) { e.preventDefault(); }
      return;
    }
    if (inTextarea && e.altKey && !ctrl && /^Digit[1-3]$/.test(e.code || "")) {
      if (insertSuggestion(li, parseInt(e.code.slice(5), 10))) { e.preventDefault(); }
      return;
    }
    if (inTextarea && e.key === "Escape") {
      if (isDirty(target)) {
        e.preventDefault();
        replaceAll(target, target.getAttribute("data-saved") || "");
        li.classList.remove("dirty");
        showMessages(li, [msg("reverted")], "notice");
      }
      return;
    }
    if (isTextField(target) || ctrl || e.altKey) { return; }
    if (e.key === "j" || e.key === "k") {
      e.preventDefault();
      move(e.key === "j" ? 1 : -1, false);
    } else if (e.key === "Enter" && target.matches && target.matches("li.segment")) {
      e.preventDefault();
      focusSegment(target, true);
    } else if (e.key === "?") {
      e.preventDefault();
      openDialog(shortcuts);
    }
  });

  // ---- dialogs ---------------------------------------------------------------------------

  var opener = document.getElementById("shortcuts-open");
  if (opener && shortcuts) {
    opener.addEventListener("click", function () { openDialog(shortcuts); });
  }
  var bulk = document.getElementById("bulk-dialog");
  var bulkLink = document.getElementById("approve-unchanged");
  if (bulk && bulkLink && bulk.showModal) {
    bulkLink.addEventListener("click", function (e) {
      e.preventDefault();
      bulk.showModal();
    });
    bulk.addEventListener("click", function (e) {
      if (!e.target.closest) { return; }
      if (e.target.closest(".dialog-close")) { bulk.close(); return; }
      var link = e.target.closest(".bulk-skipped a[href*='#segment-']");
      var li = link && document.getElementById(link.getAttribute("href").split("#")[1]);
      if (li) {
        // A skipped segment: close the dialog and go to it, on this page.
        e.preventDefault();
        bulk.close();
        focusSegment(li, true);
      }
    });
    bulk.addEventListener("close", function () {
      if (!segmentOf(document.activeElement)) { bulkLink.focus(); }
    });
  }
  if (shortcuts && opener) {
    shortcuts.addEventListener("close", function () {
      var li = items()[Math.max(0, currentIndex())];
      if (lastFocus && document.contains(lastFocus)) { lastFocus.focus(); } else if (li) { focusSegment(li, true); }
    });
  }
  var lastFocus = null;
  document.addEventListener("focusin", function (e) {
    if (!e.target.closest("dialog")) { lastFocus = e.target; }
  });
  // A bulk form leaves the page on purpose: after its own confirmation, no unload warning.
  // Unless rows hold unsaved text: it would be lost with the page, so the form waits.
  document.querySelectorAll("form.bulk-confirm, form.approve-shown, form.undo").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      var unsaved = items().filter(function (li) {
        var ta = textareaOf(li);
        return ta && isDirty(ta);
      });
      var note = f.querySelector(".bulk-unsaved");
      if (unsaved.length) {
        e.preventDefault();
        if (!note) {
          note = el("p", "bulk-unsaved refusal");
          note.setAttribute("role", "alert");
          f.insertBefore(note, f.firstChild);
        }
        note.textContent = msg("unsaved-bulk", {
          rows: unsaved.map(function (li) { return li.getAttribute("data-position") || li.getAttribute("data-key"); }).join(", "),
        });
        return;
      }
      window.removeEventListener("beforeunload", warnUnsaved);
    });
  });

  // ---- the live preview ------------------------------------------------------------------

  var previewTimer = null;
  var previewBody = document.getElementById("preview-body");
  var previewState = document.getElementById("preview-state");
  var previewUrl = list.getAttribute("data-preview-url");
  var previewSeq = 0;
  function schedulePreview() {
    if (!previewBody || !previewUrl) { return; }
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, 600);
  }
  function refreshPreview() {
    var targets = {};
    items().forEach(function (li) {
      var ta = textareaOf(li);
      if (ta) { targets[li.getAttribute("data-key")] = ta.value; }
    });
    var token = (document.querySelector("input[name=csrf_token]") || {}).value || "";
    var seq = ++previewSeq;
    fetch(previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ targets: targets }),
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (body) {
      if (seq !== previewSeq) { return; }
      // The server sanitizes the preview; the CSP forbids inline script anyway.
      previewBody.innerHTML = body.html || "";
      var title = document.getElementById("preview-title");
      var summary = document.getElementById("preview-summary");
      if (title && typeof body.title === "string") { title.textContent = body.title; title.hidden = !body.title; }
      if (summary && typeof body.summary === "string") {
        summary.textContent = body.summary;
        summary.hidden = !body.summary;
      }
      if (previewState) { previewState.textContent = ""; }
    }).catch(function () {
      if (seq === previewSeq && previewState) { previewState.textContent = msg("preview-failed"); }
    });
  }

  // ---- never lose typed text -------------------------------------------------------------

  function warnUnsaved(e) {
    var dirty = items().some(function (li) { var ta = textareaOf(li); return ta && isDirty(ta); });
    if (dirty) {
      e.preventDefault();
      e.returnValue = "";
      return "";
    }
    return undefined;
  }
  window.addEventListener("beforeunload", warnUnsaved);

  // ---- start -----------------------------------------------------------------------------

  document.documentElement.classList.add("js");
  document.querySelectorAll("[data-js-only]").forEach(function (n) { n.hidden = false; });
  items().forEach(setup);
  if (location.hash) {
    var start = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (start && start.matches("li.segment")) { focusSegment(start, true); }
  }
})();

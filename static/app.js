// The uploader: one request per file so each file shows its own progress and its own answer.
(function () {
  "use strict";
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"]; } catch (e) { return ""; }
  }
  function row(list, file) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0; bar.setAttribute("aria-label", "Uploading " + file.name);
    var result = document.createElement("p");
    result.className = "result";
    li.append(name, bar, result);
    list.prepend(li);
    return { row: li, bar: bar, result: result };
  }
  function verdict(photo) {
    if (!photo || photo.blur_score === null || photo.blur_score === undefined) return "waiting to be scored";
    return (photo.is_blurred ? "blurred" : "not blurred") + " (score " + scoreText(photo.blur_score) + ")";
  }
  function scoreText(score) {
    // two places, or the four it is kept to where two would carry it across the threshold (as the pages do)
    var shown = score.toFixed(2), said = document.getElementById("threshold-value");
    var threshold = said ? Number(said.textContent) : NaN;
    return isNaN(threshold) || (Number(shown) >= threshold) === (score >= threshold) ? shown : score.toFixed(4);
  }
  function describe(status, body, file) {
    if (status === 201) {
      var photo = body.photos && body.photos[0];
      var kind = !photo || photo.is_blurred === null || photo.is_blurred === undefined ? "pending" : photo.is_blurred ? "blurred" : "sharp";
      return [true, file.name + ": added, " + verdict(photo), kind];
    }
    if (status === 200) return [true, file.name + ": already in Classify", "known"];
    var detail = (body && (body.detail || (body.rejected && body.rejected[0] && body.rejected[0].detail))) || ("failed (" + status + ")");
    return [false, detail.indexOf(file.name) >= 0 ? detail : file.name + ": " + detail, "failed"];
  }
  // One line over the list for the whole batch, so a long upload reads at a glance.
  function tally(total) {
    var summary = document.getElementById("upload-summary");
    var seen = { sharp: 0, blurred: 0, pending: 0, known: 0, failed: 0, stopped: 0 };
    var done = 0;
    function show() {
      var parts = [];
      if (seen.blurred) parts.push(seen.blurred + " blurred");
      if (seen.sharp) parts.push(seen.sharp + " not blurred");
      if (seen.pending) parts.push(seen.pending + " waiting to be scored");
      if (seen.known) parts.push(seen.known + " already in Classify");
      if (seen.failed) parts.push(seen.failed + " refused");
      if (seen.stopped) parts.push(seen.stopped + " not uploaded (stopped)");
      var head = done < total ? "Uploading " + done + " of " + total : total + (total === 1 ? " file" : " files") + " done";
      summary.textContent = head + (parts.length ? ": " + parts.join(", ") : "") + (done < total ? "…" : ".");
      summary.hidden = false;
      // read out once the batch is in, not once a file (a screen reader holds a busy live region's news)
      summary.setAttribute("aria-busy", done < total ? "true" : "false");
    }
    if (summary) show();
    return function (kind) {
      seen[kind] += 1; done += 1;
      if (summary) show();
      // the grid and the tabs' counts follow as photos arrive, not only once the whole batch is in
      if (done % REFRESH_EVERY === 0 && done < total) document.body.dispatchEvent(new CustomEvent("uploaded", { bubbles: true }));
    };
  }
  var REFRESH_EVERY = 10;  // files
  function send(file, list, counted) {
    return new Promise(function (resolve) {
      var ui = row(list, file);
      var form = new FormData();
      form.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/upload");
      xhr.setRequestHeader("x-csrftoken", csrfToken());
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) ui.bar.value = Math.round(100 * e.loaded / e.total); };
      xhr.onload = function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        var outcome = describe(xhr.status, body, file);
        ui.bar.value = 100;
        ui.result.textContent = outcome[1];
        ui.result.classList.add(outcome[0] ? "ok" : "bad");
        ui.row.classList.add("done");
        counted(outcome[2]);
        resolve(outcome[0]);
      };
      xhr.onerror = function () {
        ui.result.textContent = file.name + ": the upload failed (network)";
        ui.result.classList.add("bad");
        ui.row.classList.add("done");
        counted("failed");
        resolve(false);
      };
      xhr.onabort = function () {
        active.delete(xhr);
        ui.result.textContent = file.name + ": not uploaded (stopped)";
        ui.row.classList.add("done");
        counted("stopped");
        resolve(false);
      };
      xhr.onloadend = function () { active.delete(xhr); };
      active.add(xhr);
      xhr.send(form);
    });
  }
  var uploading = 0;  // batches under way: a new batch starts a fresh list only when none is
  var waiting = [];  // each batch's files not sent yet
  var active = new Set();  // requests under way
  async function uploadAll(files) {
    var list = document.getElementById("upload-list");
    var stop = document.getElementById("upload-stop");
    if (!uploading) list.replaceChildren();  // the last batch's lines would read as this one's
    list.tabIndex = 0;  // a list that scrolls is reached by the keyboard too
    uploading += 1;
    if (stop) stop.hidden = false;
    var queue = Array.from(files);
    var counted = tally(queue.length);
    waiting.push({ queue: queue, counted: counted });
    var workers = [];
    for (var i = 0; i < 3; i++) {
      workers.push((async function () { while (queue.length) { await send(queue.shift(), list, counted); } })());
    }
    await Promise.all(workers);
    waiting = waiting.filter(function (batch) { return batch.queue !== queue; });
    uploading -= 1;
    if (stop && !uploading) stop.hidden = true;
    // once all is in, the summary speaks for the files that came in, and the grid shows them: only the refused
    // stay listed, with why (a long list kept the first row of photos below the fold)
    if (!uploading) list.querySelectorAll("li").forEach(function (li) { if (!li.querySelector(".result.bad")) li.remove(); });
    if (!list.children.length) list.removeAttribute("tabindex");
    document.body.dispatchEvent(new CustomEvent("uploaded", { bubbles: true }));
  }
  function stopUploads() {
    // The files not sent yet are counted as not uploaded, and those on their way are cut off: the summary
    // says how many did not come in.
    waiting.forEach(function (batch) { batch.queue.splice(0).forEach(function () { batch.counted("stopped"); }); });
    Array.from(active).forEach(function (xhr) { xhr.abort(); });
  }
  function guardUploads() {
    var stop = document.getElementById("upload-stop");
    if (stop) stop.addEventListener("click", stopUploads);
    // leaving the page drops the files not uploaded yet: the browser asks first
    window.addEventListener("beforeunload", function (e) { if (uploading) { e.preventDefault(); e.returnValue = ""; } });
  }
  function setup() {
    var zone = document.getElementById("dropzone");
    var input = document.getElementById("file-input");
    if (!zone || !input) return;
    input.addEventListener("change", function () { if (input.files.length) uploadAll(input.files); input.value = ""; });
    zone.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
    ["dragenter", "dragover"].forEach(function (t) { zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("dragging"); }); });
    ["dragleave", "drop"].forEach(function (t) { zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove("dragging"); }); });
    zone.addEventListener("drop", function (e) { if (e.dataTransfer && e.dataTransfer.files.length) uploadAll(e.dataTransfer.files); });
  }
  function slider() {
    var range = document.getElementById("threshold");
    var out = document.getElementById("threshold-value");
    if (!range || !out) return;
    // A threshold between two of the slider's steps (0.2559, a suggestion taken) is shown as it is, and the
    // arrows step from it (step "any"); dragging takes the slider back to its steps.
    function text(value) {
      var stepped = Math.round(value * 100) / 100;
      return Math.abs(value - stepped) < 1e-9 ? stepped.toFixed(2) : String(Math.round(value * 10000) / 10000);
    }
    // a drag (not a click that leaves the thumb where it is: that would snap it unseen) goes back to the steps
    var pointing = false;
    range.addEventListener("pointerdown", function () { pointing = true; });
    document.addEventListener("pointerup", function () { pointing = false; });
    // "Your threshold is now 0.42…" is no longer so once the slider has moved
    document.body.addEventListener("threshold-changed", function () {
      var took = document.getElementById("took-note");
      if (took) took.remove();
    });
    range.addEventListener("input", function () {
      if (pointing && range.step === "any") range.step = "0.01";  // a drag: back to the steps, as said above
      out.textContent = text(Number(range.value));
    });
  }
  var STEP_KEYS = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"];
  function submitOnChange() {
    // The gallery's source and order apply as soon as they are picked with the pointer, as a link would. From the
    // keyboard the arrows, or a letter that jumps to an option, step a closed select through its options, each a
    // change: the page must not reload at the first step (WCAG 3.2.2), so there they apply on Enter, in either
    // select, with what the other one holds; the form's button works either way.
    function pending(form) {
      return Array.prototype.some.call(form.querySelectorAll("select[data-submit-on-change]"), function (other) {
        return other.value !== other.dataset.chosen;
      });
    }
    // The page that comes back has the focus on the select it was sent from, not at its top.
    var REFOCUS = "classify:refocus";
    function send(select) {
      sessionStorage.setItem(REFOCUS, select.name);
      select.form.requestSubmit();
    }
    document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
      var stepped = false;
      select.dataset.chosen = select.value;
      select.addEventListener("pointerdown", function () { stepped = false; });
      select.addEventListener("keydown", function (e) {
        var letter = e.key.length === 1 && e.key !== " ";  // Space opens the list, whose pick is a pick
        if (e.key === "Enter") {
          e.preventDefault();
          if (pending(select.form)) send(select);
        } else if (!e.altKey && !e.ctrlKey && !e.metaKey && (STEP_KEYS.indexOf(e.key) >= 0 || letter)) {
          stepped = true;
        }
      });
      select.addEventListener("change", function () { if (!stepped) send(select); });
    });
    var sentFrom = sessionStorage.getItem(REFOCUS);
    sessionStorage.removeItem(REFOCUS);
    var again = sentFrom && document.querySelector('select[data-submit-on-change][name="' + CSS.escape(sentFrom) + '"]');
    if (again) again.focus();
  }
  function picking() {
    // Ticked photos of the grid: the bar along the foot of the window says how many and offers to mark or remove
    // them, or to untick all. The ticks stay through the grid's reloads (a photo scored, the threshold moved) and
    // go once acted on.
    var kept = [];
    function ticked() { return document.querySelectorAll('input[form="picked"]:checked'); }
    function untick(acted) { ticked().forEach(function (box) { box.checked = false; }); update(acted); }
    function update(acted) {
      // acted: the bar's own action ended, and the button that sent it was disabled meanwhile, which let the
      // focus fall to the page
      var bar = document.getElementById("picked");
      if (!bar) return;
      var count = ticked().length;
      var active = document.activeElement;
      var focused = bar.contains(active) || (acted && (!active || active === document.body));
      bar.hidden = count === 0;
      document.getElementById("picked-count").textContent = count + " selected";
      var what = count === 1 ? "this photo" : "these " + count + " photos";
      bar.setAttribute("hx-confirm", "Remove " + what + " from Classify? " + bar.dataset.confirmAfter);
      var all = bar.querySelector("[data-pick-all]"), shown = document.querySelectorAll('#grid input[form="picked"]').length;
      if (all) { all.hidden = count >= shown; all.textContent = "Select all " + shown + " shown"; }
      if (focused && bar.hidden) afterBar();
    }
    function afterBar() {
      // The bar went with the focus in it: on to what its action said (in the job area), or back to the grid,
      // rather than to the top of the page.
      var area = document.getElementById("job-area");
      var next = area && area.textContent.trim() ? area : document.querySelector("#grid .photo-link");
      if (!next) return;
      if (next === area) area.setAttribute("tabindex", "-1");
      next.focus();
    }
    document.addEventListener("change", function (e) { if (e.target.form && e.target.form.id === "picked") update(); });
    document.addEventListener("keydown", function (e) {
      // the bar sits at the foot of the window but before the grid in the page: Enter on a tick goes to it
      var box = e.target;
      if (e.key !== "Enter" || !box.form || box.form.id !== "picked" || box.type !== "checkbox") return;
      var first = document.querySelector("#picked:not([hidden]) button");
      if (first) { e.preventDefault(); first.focus(); }
    });
    document.addEventListener("click", function (e) { if (e.target.closest && e.target.closest("[data-clear-picked]")) untick(); });
    document.addEventListener("click", function (e) {
      if (!(e.target.closest && e.target.closest("[data-pick-all]"))) return;
      document.querySelectorAll('#grid input[form="picked"]').forEach(function (box) { box.checked = true; });
      update();
      // the button goes once all are ticked: the focus stays in the bar, on what says how many
      var said = document.getElementById("picked-count");
      said.setAttribute("tabindex", "-1");
      said.focus();
    });
    document.body.addEventListener("htmx:beforeSwap", function (e) {
      if (e.detail.target && e.detail.target.id === "gallery") kept = Array.from(ticked(), function (box) { return box.value; });
    });
    document.body.addEventListener("htmx:configRequest", function (e) {
      // the grid comes back with as many photos as it shows (the server caps it), not only its first page, or
      // with as many as backToCard asks for
      if (!e.detail.target || e.detail.target.id !== "gallery") return;
      var shown = document.querySelectorAll("#grid > li.photo-card").length;
      e.detail.parameters.shown = Math.max(Number(e.detail.parameters.shown) || 0, shown);
    });
    document.body.addEventListener("htmx:afterSwap", function (e) {
      if (e.detail.target && e.detail.target.id === "gallery") {
        kept.forEach(function (id) {
          var box = document.querySelector('input[form="picked"][value="' + id + '"]');
          if (box) box.checked = true;
        });
      }
      update();
    });
    document.body.addEventListener("htmx:afterRequest", function (e) {
      var elt = e.detail.elt;
      if (e.detail.successful && elt && (elt.id === "picked" || elt.form && elt.form.id === "picked")) untick(true);
    });
  }
  function tickRuns() {
    // Shift with a click (or with Space) on a photo's box, in the gallery or in Recently removed, sets every box
    // from the last one ticked or unticked to this one the same way, as in a file manager. The anchor is kept by
    // photo, so it outlives a reload; clearing the selection drops it. The box's own change event, which follows,
    // updates what counts the ticks.
    var anchor = null;
    document.addEventListener("click", function (e) {
      if (e.target.closest && e.target.closest("[data-clear-picked]")) { anchor = null; return; }
      var box = e.target;
      if (box.type !== "checkbox" || !box.closest || !box.closest("#grid")) return;
      var boxes = Array.from(document.querySelectorAll("#grid input[type=checkbox]"));
      var from = boxes.findIndex(function (b) { return b.value === anchor; }), to = boxes.indexOf(box);
      if (e.shiftKey && from >= 0 && to >= 0) {
        boxes.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (b) { b.checked = box.checked; });
      }
      anchor = box.value;
    });
  }
  function mapToggle() {
    // on the document: a photo scored while its page is open gets its switch with the swapped-in verdict
    document.addEventListener("change", function (e) {
      var map = document.getElementById("sharpness-map");
      var words = document.getElementById("map-words");
      if (e.target.id === "map-toggle" && map) map.hidden = !e.target.checked;
      if (e.target.id === "map-toggle" && words) words.hidden = !e.target.checked;
    });
  }
  function gridArrows() {
    // In a grid of photos the arrow keys go from photo to photo, up and down by a row as the grid is laid
    // out just now (its columns follow the window), instead of a Tab or two per card.
    var STEPS = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: "up", ArrowDown: "down" };
    document.addEventListener("keydown", function (e) {
      var from = e.target, step = STEPS[e.key];
      if (!step || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey || !from.matches || !from.matches(".grid-photos a.photo-link")) return;
      var links = Array.from(from.closest(".grid-photos").querySelectorAll("a.photo-link"));
      var at = links.indexOf(from), top = from.getBoundingClientRect().top, first = links[0].getBoundingClientRect().top;
      var columns = links.filter(function (a) { return Math.abs(a.getBoundingClientRect().top - first) < 2; }).length;
      var to = at + (step === "up" ? -columns : step === "down" ? columns : step);
      if (to >= links.length && step === "down" && links[links.length - 1].getBoundingClientRect().top > top + 2) {
        to = links.length - 1;  // a shorter last row
      }
      if (to < 0 || to >= links.length) return;  // at an edge the key scrolls the page, as it would without this
      e.preventDefault();
      links[to].focus();
    });
  }
  function backToCard() {
    // Back from a photo's page, the focus is on the card it was opened from (not at the top of the page), so
    // the keyboard goes on from there. A gallery that changed meanwhile reloads with its first page only: a
    // card past it comes back by reloading the grid with as many photos as it showed then.
    var OPENED = "classify:opened", SHOWN = "classify:opened-shown";
    function cardOf(href) { return document.querySelector('#grid a.photo-link[href="' + CSS.escape(href) + '"]'); }
    document.addEventListener("click", function (e) {
      var link = e.target.closest && e.target.closest("#grid a.photo-link");
      if (!link) return;
      sessionStorage.setItem(OPENED, link.getAttribute("href"));
      sessionStorage.setItem(SHOWN, String(document.querySelectorAll("#grid > li.photo-card").length));
    });
    window.addEventListener("pageshow", function (e) {
      whenCurrent(e, function () {
        var href = sessionStorage.getItem(OPENED), shown = Number(sessionStorage.getItem(SHOWN)) || 0;
        var gallery = document.getElementById("gallery");
        if (!href || !document.getElementById("grid")) return;
        sessionStorage.removeItem(OPENED);
        sessionStorage.removeItem(SHOWN);
        var link = cardOf(href);
        if (link) { link.focus(); return; }
        if (!gallery || shown <= document.querySelectorAll("#grid > li.photo-card").length) return;
        htmx.ajax("GET", gallery.getAttribute("hx-get"), { source: gallery, target: gallery, swap: "innerHTML", values: { shown: shown } })
          .then(function () { var again = cardOf(href); if (again) again.focus(); });
      });
    });
  }
  function focusAnchoredNote() {
    // A note a page was sent to by its address (#removed-note, before where the page goes on) takes the focus:
    // with an anchor in the address, the browser does not honour its autofocus.
    var note = location.hash && document.getElementById(location.hash.slice(1));
    if (note && note.classList.contains("action-note")) note.focus();
  }
  function whenCurrent(e, then) {
    // A page brought back by Back or Forward is the browser's copy: after the threshold moved, a photo was
    // marked or removed, its counts and verdicts are old. The page asks for itself again, and reloads when
    // what it shows has changed (main's data-state) or is gone; otherwise the copy stays, with its loaded
    // grid pages and the focus where it was.
    var main = document.getElementById("main"), state = main && main.getAttribute("data-state");
    var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (!state || !(e.persisted || (nav && nav.type === "back_forward"))) { then(); return; }
    fetch(location.href, { cache: "no-store", credentials: "same-origin" }).then(function (answer) {
      if (!answer.ok) return null;
      return answer.text();
    }).then(function (html) {
      var now = html && new DOMParser().parseFromString(html, "text/html").getElementById("main");
      if (now && now.getAttribute("data-state") === state) then(); else location.reload();
    }, then);  // unreachable just now: the copy is better than nothing
  }
  var PHOTO_KEYS = { ArrowLeft: "photo-previous", ArrowRight: "photo-next", s: "mark-sharp", b: "mark-blurred", u: "mark-score", Delete: "photo-remove", Backspace: "photo-remove", z: "removal-undo" };
  var KEYS_OFF = "classify:photo-keys-off";
  function photoSteps() {
    // ← and → step through the tab a photo was opened from, S, B and U mark the photo sharp, blurred or back to
    // its score, Delete (or Backspace) removes it (on to the next, whose note has an Undo) and Z undoes that,
    // unless a field, control or open menu has the keys, or the person turned the keys off (speech input types
    // letters too).
    var toggle = document.getElementById("photo-keys-on");
    if (toggle) {
      toggle.checked = localStorage.getItem(KEYS_OFF) !== "1";
      toggle.addEventListener("change", function () {
        if (toggle.checked) localStorage.removeItem(KEYS_OFF); else localStorage.setItem(KEYS_OFF, "1");
      });
    }
    document.addEventListener("keydown", function (e) {
      if (e.altKey || e.ctrlKey || e.metaKey || (e.shiftKey && e.key.length !== 1)) return;
      if (localStorage.getItem(KEYS_OFF) === "1" || takesKeys(e.target)) return;
      var key = e.key.length === 1 ? e.key.toLowerCase() : e.key;  // s or S, whatever Caps Lock or Shift says
      // a key held down repeats: on through the photos, but not a removal (the next page would take the next
      // photo too, and its Undo only that one) nor a call or an undo
      if (e.repeat && key !== "ArrowLeft" && key !== "ArrowRight") return;
      var control = document.getElementById(PHOTO_KEYS[key] || "");
      if (control) { e.preventDefault(); control.click(); }
    });
  }
  function takesKeys(el) {
    // a field or slider uses letters and arrows; a checkbox or switch (the sharpness map's) only Space;
    // an open menu's links are walked with the arrows
    if (!el) return false;
    if (el.isContentEditable || /^(TEXTAREA|SELECT)$/.test(el.tagName)) return true;
    if (el.closest && el.closest("details[open]")) return true;
    return el.tagName === "INPUT" && !/^(checkbox|button|submit|reset)$/.test(el.type);
  }
  function menus() {
    // A menu (the account's, Export's) closes on Escape, back on its summary, when the focus leaves it, and once
    // one of its items is chosen (a download leaves the page where it is, and the menu open over it). The
    // gallery's Import panel closes on Escape too.
    document.addEventListener("keydown", function (e) {
      var open = e.key === "Escape" && e.target.closest && e.target.closest("details.dropdown[open], details.import-more[open]");
      if (open) { open.open = false; open.querySelector("summary").focus(); }
    });
    document.addEventListener("click", function (e) {
      var menu = e.target.closest && e.target.closest("details.dropdown[open]");
      if (!menu || !e.target.closest("a[href]")) return;
      menu.open = false;  // the item chosen is hidden with it: the focus goes back to the menu's summary
      if (e.target.closest("a[href]") === document.activeElement) menu.querySelector("summary").focus();
    });
    document.addEventListener("focusout", function (e) {
      var menu = e.target.closest && e.target.closest("details.dropdown[open]");
      if (menu && e.relatedTarget && !menu.contains(e.relatedTarget)) menu.open = false;
    });
  }
  function keepFocus() {
    // htmx replaces parts of a page under the keyboard's focus (the tabs' counts while photos are scored, a job
    // as it ends, the grid's next page). Where the focused element is gone and none with its id came back, the
    // focus would fall to the top of the page: it goes to the same link or button if it came back, else to
    // what now stands where the replaced part stood.
    var saved = null;
    document.body.addEventListener("htmx:beforeSwap", function (e) {
      var target = e.detail.target, active = document.activeElement;
      if (!target || !active || active === document.body || !target.contains(active)) return;  // another swap's kept
      var parent = target.parentElement;
      saved = { key: focusKey(active), parent: parent, index: parent ? Array.prototype.indexOf.call(parent.children, target) : -1, target: target };
    });
    document.body.addEventListener("htmx:afterSettle", function () {
      var was = saved;
      saved = null;
      if (!was || (document.activeElement && document.activeElement !== document.body)) return;
      var again = was.key && document.querySelector(was.key);
      var place = was.target.isConnected ? was.target : was.parent && was.parent.children[was.index];
      var next = again || (place && (place.querySelector("a[href], button:not([disabled]), input:not([type=hidden])") || place));
      if (!next) return;
      if (!next.matches("a[href], button, input, select, textarea, [tabindex]")) next.setAttribute("tabindex", "-1");
      next.focus({ preventScroll: true });
    });
  }
  function focusAfterAction() {
    // A button that sends a request is disabled while it waits (hx-disabled-elt), and a disabled button loses the
    // focus to the page: after "Remove All" from the keyboard, the next Tab started at the top. The focus goes to
    // where the answer was put (the job's card) when nothing else took it meanwhile.
    // A form's button sends the form (Create the album); an answer that replaces the section its button sat in
    // (Tag with AI) brings the button back under the same id, and the focus goes back to it.
    var sender = null, senderKey = null;
    document.body.addEventListener("htmx:beforeRequest", function (e) {
      var active = document.activeElement, elt = e.detail.elt;
      sender = active && active !== document.body && (elt === active || elt.contains(active)) ? elt : null;
      senderKey = sender ? focusKey(active) : null;
    });
    document.body.addEventListener("htmx:afterSettle", function (e) {
      var config = e.detail.requestConfig, target = e.detail.target, key = senderKey;
      if (!sender || !config || config.elt !== sender || !target) return;
      sender = senderKey = null;
      if (document.activeElement && document.activeElement !== document.body) return;
      var next = target.isConnected ? target : (key && document.querySelector(key)) || (target.id && document.getElementById(target.id));
      if (!next) return;
      if (!next.matches("a[href], button, input, select, textarea, [tabindex]")) next.setAttribute("tabindex", "-1");
      next.focus();
    });
  }
  function focusKey(el) {
    if (el.id) return "#" + CSS.escape(el.id);
    if (el.tagName === "A" && el.getAttribute("href")) return 'a[href="' + CSS.escape(el.getAttribute("href")) + '"]';
    if (el.name && el.value) return el.tagName.toLowerCase() + '[name="' + CSS.escape(el.name) + '"][value="' + CSS.escape(el.value) + '"]';
    return null;
  }
  function jobNews() {
    // A job that ends says so to a screen reader: its article is replaced whole, which a live region inside it
    // would not announce.
    var news = document.getElementById("job-news");
    if (!news) return;
    document.body.addEventListener("htmx:afterSettle", function (e) {
      // fired on the content swapped in (detail.elt is the element that asked, replaced by now)
      var job = e.target && e.target.closest && e.target.closest("article.job");
      if (!job || !/^(done|failed|cancelled)$/.test(job.getAttribute("data-status"))) return;
      var title = job.querySelector(".job-title"), counts = job.querySelector(".job-counts");
      news.textContent = (title ? title.textContent + ": " : "") + job.getAttribute("data-status") + ". " + (counts ? counts.textContent.replace(/\s+/g, " ").trim() : "");
    });
  }
  function keepOnError() {
    // Error answers are swapped in where an action was taken (htmx-config in base.html); a background
    // refresh (polling, a job's final fetch) keeps what is shown instead, and tries again on its next turn.
    // An action whose answer replaces the section it sits in (a job's Cancel, Tag with AI, the grid's next
    // page) puts an error in the place its data-error-target names, so the section and the action stay.
    document.body.addEventListener("htmx:beforeRequest", function (e) {
      // asked again: the last answer's error goes, so it is not read as this one's
      var into = e.detail.elt.hasAttribute("data-error-target") && document.querySelector(e.detail.elt.getAttribute("data-error-target"));
      if (into) into.textContent = "";
    });
    document.body.addEventListener("htmx:beforeSwap", function (e) {
      var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
      if (!e.detail.isError || !elt) return;
      if (elt.hasAttribute("data-keep-on-error")) { e.detail.shouldSwap = false; return; }
      var into = elt.hasAttribute("data-error-target") && document.querySelector(elt.getAttribute("data-error-target"));
      if (into) { e.detail.target = into; e.detail.swapOverride = "innerHTML"; }
    });
  }
  function confirmForms() {
    // A form, or the button that sends it, with data-confirm asks first (the pages allow no inline script,
    // so no onsubmit attribute).
    var clicked = null;  // the button that sends a form, where the browser has no SubmitEvent.submitter
    document.addEventListener("click", function (e) {
      var control = e.target.closest ? e.target.closest("button, input") : null;
      clicked = control && control.type === "submit" ? control : null;
    }, true);
    document.addEventListener("submit", function (e) {
      var sender = e.submitter || (clicked && clicked.form === e.target ? clicked : null);
      var asker = sender && sender.hasAttribute("data-confirm") ? sender : e.target;
      var question = asker.getAttribute && asker.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { e.preventDefault(); e.stopImmediatePropagation(); }
    }, true);
  }
  confirmForms();
  function sendOnce() {
    // A page's plain form goes once: pressed twice (Delete twice, a double click), its second copy came after the
    // first had done its work, and said the photo was not found. Back brings the page back ready to send again.
    document.addEventListener("submit", function (e) {
      var form = e.target;
      if (e.defaultPrevented || (form.method || "").toLowerCase() !== "post" || form.hasAttribute("hx-post")) return;
      if (form.dataset.sent) { e.preventDefault(); return; }
      form.dataset.sent = "1";
    });
    window.addEventListener("pageshow", function () {
      document.querySelectorAll("form[data-sent]").forEach(function (form) { delete form.dataset.sent; });
    });
  }
  sendOnce();
  function pageView() {
    // A removal job's Undo goes back to the tab, order and filters the page shows as it is pressed.
    document.addEventListener("submit", function (e) {
      if (!e.target.querySelectorAll) return;
      e.target.querySelectorAll("input[data-page-view]").forEach(function (input) {
        input.value = location.pathname === "/photos" ? location.search.slice(1) : "";
      });
    });
  }
  pageView();
  function needTicks() {
    // Buttons that act on the ticked photos of their form wait for a tick (without script, the server says so).
    var forms = [];
    document.querySelectorAll("[data-needs-ticks]").forEach(function (b) {
      if (b.form && forms.indexOf(b.form) < 0) forms.push(b.form);
    });
    forms.forEach(function (form) {
      function update() {
        var none = !form.querySelector("input[name=photo_ids]:checked");
        form.querySelectorAll("[data-needs-ticks]").forEach(function (b) { b.disabled = none; });
      }
      form.addEventListener("change", update);
      update();
    });
  }
  function followJobs() {
    // An import's photos arrive while it runs (a removal's go): the gallery beside it follows, every few
    // seconds at most, not only once the job ends (a 40-photo import showed nothing new for its whole run)
    var FOLLOW_MS = 3000, last = 0, waiting = null;
    document.body.addEventListener("htmx:sseMessage", function (e) {
      var job = e.target.closest ? e.target.closest("[data-changes-photos]") : null;
      if (!job || !document.getElementById("gallery") || waiting) return;
      function follow() {
        // not under an open menu (Export): a reload would close it in the person's hands; after it, then
        if (document.querySelector("#gallery details[open]")) { waiting = setTimeout(follow, FOLLOW_MS); return; }
        waiting = null; last = Date.now();
        htmx.trigger(document.body, "photos-scored");
      }
      waiting = setTimeout(follow, Math.max(0, last + FOLLOW_MS - Date.now()));
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    followJobs(); focusAnchoredNote(); setup(); guardUploads(); slider(); submitOnChange(); picking(); mapToggle(); tickRuns(); gridArrows(); photoSteps(); menus(); keepFocus(); focusAfterAction(); jobNews(); keepOnError(); needTicks();
  });
  backToCard();  // its pageshow listener must be there before the first pageshow
})();

// Executions table of the run report: paging, sorting, filtering and row details.
// Safety rule: strings from the dataset or the API reach the page only through
// textContent, element properties or option values, so the browser never parses them as
// HTML, and only http and https URLs become links.
(function () {
  "use strict";

  var source = document.getElementById("report-data");
  if (!source) { return; }
  var payload = JSON.parse(source.textContent);
  var fields = payload.fields;
  var incidents = payload.incidents || {};
  var NONE = "__none__";

  var hasRepeats = Boolean(payload.has_repeats);

  // repeats of one incident against one book form a group, listed in repeat order
  var groups = Object.create(null);
  var rows = payload.executions.map(function (values, index) {
    var row = { index: index, haystack: null };
    for (var i = 0; i < fields.length; i++) { row[fields[i]] = values[i]; }
    row.group = row.incident_id + "\u0000" + row.book;
    (groups[row.group] = groups[row.group] || []).push(row);
    return row;
  });
  Object.keys(groups).forEach(function (group) { groups[group].sort(byRepeat); });

  var state = {
    text: "", book: "", status: "", verdict: "", repeats: "", isGrouped: hasRepeats,
    scorer: payload.primary_scorer, sortKey: null, sortDirection: 1,
    page: 0, pageSize: 50, open: Object.create(null)
  };
  var filtered = rows;
  // agreement of each group under the selected scorer; cleared when the scorer changes
  var agreements = Object.create(null);

  var body = document.getElementById("executions-body");
  var statusLine = document.getElementById("table-status");
  var pageLabel = document.getElementById("page-label");
  var COLUMN_COUNT = document.querySelectorAll("#executions-table thead th").length;

  // ---- small DOM helpers -------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function append(parent, children) {
    children.forEach(function (child) { if (child) { parent.appendChild(child); } });
    return parent;
  }
  function safeHref(value) {
    if (typeof value !== "string" || !value.trim()) { return null; }
    var url;
    try { url = new URL(value.trim()); } catch (error) { return null; }
    return (url.protocol === "http:" || url.protocol === "https:") ? url.href : null;
  }
  function linkOrText(value, label) {
    if (value === null || value === undefined || value === "") { return null; }
    var href = safeHref(value);
    if (href) {
      var link = el("a", null, label || value);
      link.href = href;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      return link;
    }
    var text = el("span", "unsafe-link", value);
    text.title = "Not an http or https link, so it is shown as text";
    return text;
  }
  function badge(kind, value) {
    if (!value) { return el("span", "muted", "–"); }
    return el("span", "badge " + kind + "-" + value.replace(/[^a-z_]/gi, ""), value);
  }
  function formatSeconds(value) {
    if (value === null || value === undefined) { return "–"; }
    return value < 1 ? Math.round(value * 1000) + " ms" : value.toFixed(2) + " s";
  }
  function formatScore(value) {
    return (value === null || value === undefined) ? "–" : value.toFixed(2);
  }
  function prettyJson(text) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (error) { return text; }
  }
  function keyValues(pairs) {
    var list = el("dl", "kv");
    pairs.forEach(function (pair) {
      if (pair[1] === null || pair[1] === undefined || pair[1] === "") { return; }
      list.appendChild(el("dt", null, pair[0]));
      var value = el("dd");
      if (pair[1] instanceof Node) { value.appendChild(pair[1]); } else { value.textContent = String(pair[1]); }
      list.appendChild(value);
    });
    return list;
  }
  function panel(className, title, children) {
    var box = el("div", "panel " + (className || ""));
    box.appendChild(el("h3", null, title));
    return append(box, children);
  }
  function jsonDetails(summaryText, text) {
    if (!text) { return null; }
    var details = el("details");
    details.appendChild(el("summary", null, summaryText));
    details.appendChild(el("pre", "json", prettyJson(text)));
    return details;
  }

  // ---- values used by filters and sorting --------------------------------------------
  function scoreEntry(row) {
    return (row.scores && state.scorer >= 0) ? row.scores[state.scorer] : null;
  }
  function verdictOf(row) { var entry = scoreEntry(row); return entry ? entry[1] : null; }
  function scoreOf(row) { var entry = scoreEntry(row); return entry ? entry[0] : null; }
  function incidentOf(row) { return incidents[row.incident_id] || null; }
  // Count the scored repeats of the row's group that share its most common verdict.
  // It is null below two scored repeats, because one verdict cannot disagree with itself.
  function agreementOf(row) {
    if (!(row.group in agreements)) {
      var counts = Object.create(null), scored = 0, top = 0;
      groups[row.group].forEach(function (member) {
        var verdict = verdictOf(member);
        if (!verdict || verdict === "unscored") { return; }
        scored += 1;
        counts[verdict] = (counts[verdict] || 0) + 1;
        top = Math.max(top, counts[verdict]);
      });
      agreements[row.group] = scored >= 2 ? { top: top, scored: scored, counts: counts } : null;
    }
    return agreements[row.group];
  }
  function sortValue(row, key) {
    if (key === "verdict") { return verdictOf(row); }
    if (key === "agreement") { var agreement = agreementOf(row); return agreement ? agreement.top / agreement.scored : null; }
    if (key === "score") { return scoreOf(row); }
    if (key === "title") { var incident = incidentOf(row); return incident ? incident.title : null; }
    return row[key];
  }
  function haystack(row) {
    if (row.haystack === null) {
      var incident = incidentOf(row) || {};
      var parts = [row.incident_id, row.key, row.book, row.status, row.highlights, row.error,
        incident.title, incident.root_cause, incident.component, incident.category];
      (row.scores || []).forEach(function (entry) { if (entry) { parts.push(entry[2], entry[3]); } });
      row.haystack = parts.filter(function (part) { return part; }).join("\n").toLowerCase();
    }
    return row.haystack;
  }

  // ---- filtering, sorting, paging ----------------------------------------------------
  function matches(row, words) {
    if (state.book && row.book !== state.book) { return false; }
    if (state.status && row.status !== state.status) { return false; }
    if (state.verdict) {
      var verdict = verdictOf(row);
      if (state.verdict === NONE ? verdict !== null : verdict !== state.verdict) { return false; }
    }
    if (state.repeats) {
      var agreement = agreementOf(row);
      if (!agreement || (agreement.top < agreement.scored) !== (state.repeats === "differ")) { return false; }
    }
    if (words.length) {
      var text = haystack(row);
      for (var i = 0; i < words.length; i++) { if (text.indexOf(words[i]) < 0) { return false; } }
    }
    return true;
  }
  function compare(left, right) {
    var a = sortValue(left, state.sortKey), b = sortValue(right, state.sortKey);
    var aMissing = a === null || a === undefined, bMissing = b === null || b === undefined;
    // missing values go last in both directions so that they never hide the real ones
    if (aMissing || bMissing) { return aMissing === bMissing ? left.index - right.index : (aMissing ? 1 : -1); }
    var order = (typeof a === "number" && typeof b === "number") ? a - b : String(a).localeCompare(String(b), undefined, { numeric: true });
    return order !== 0 ? order * state.sortDirection : left.index - right.index;
  }
  function byRepeat(left, right) {
    return ((left.repeat || 0) - (right.repeat || 0)) || left.index - right.index;
  }
  function byIncident(left, right) {
    return String(left.incident_id).localeCompare(String(right.incident_id), undefined, { numeric: true }) ||
      String(left.book).localeCompare(String(right.book)) || byRepeat(left, right);
  }
  // Each group moves to where its first row sorts, and its other rows follow in repeat
  // order, so the sort picks the order of the groups without splitting them.
  function keepGroupsTogether(list) {
    var members = Object.create(null), order = [];
    list.forEach(function (row) {
      if (!members[row.group]) { members[row.group] = []; order.push(row.group); }
      members[row.group].push(row);
    });
    var together = [];
    order.forEach(function (group) { members[group].sort(byRepeat).forEach(function (row) { together.push(row); }); });
    return together;
  }
  function refresh(keepPage) {
    var words = state.text.toLowerCase().split(/\s+/).filter(function (word) { return word; });
    filtered = rows.filter(function (row) { return matches(row, words); });
    if (state.sortKey) { filtered.sort(compare); } else if (state.isGrouped) { filtered.sort(byIncident); }
    if (state.isGrouped) { filtered = keepGroupsTogether(filtered); }
    if (!keepPage) { state.page = 0; }
    renderPage();
  }
  function pageCount() { return Math.max(1, Math.ceil(filtered.length / state.pageSize)); }

  function renderPage() {
    state.page = Math.min(state.page, pageCount() - 1);
    var start = state.page * state.pageSize;
    var visible = filtered.slice(start, start + state.pageSize);
    var fragment = document.createDocumentFragment();
    var previousGroup = null;
    visible.forEach(function (row) {
      var line = buildRow(row);
      if (state.isGrouped) { line.classList.add(row.group === previousGroup ? "repeat-row" : "group-start"); }
      previousGroup = row.group;
      fragment.appendChild(line);
      if (state.open[row.key]) { fragment.appendChild(buildDetail(row)); line.classList.add("open"); }
    });
    body.replaceChildren(fragment);
    if (!filtered.length) {
      var empty = el("tr");
      var cell = el("td", "empty", "No execution matches the filters.");
      cell.colSpan = COLUMN_COUNT;
      body.appendChild(append(empty, [cell]));
    }
    // a large run embeds only some of its executions; the page says how many of how many
    var inRun = typeof payload.n_executions === "number" ? payload.n_executions : rows.length;
    var total = inRun > rows.length
      ? rows.length.toLocaleString("en") + " in this table, " + inRun.toLocaleString("en")
      : inRun.toLocaleString("en");
    statusLine.textContent = filtered.length
      ? "Showing " + (start + 1).toLocaleString("en") + "–" + (start + visible.length).toLocaleString("en") +
        " of " + filtered.length.toLocaleString("en") + " matching executions (" + total + " in the run)."
      : "No matching executions (" + total + " in the run).";
    pageLabel.textContent = "Page " + (state.page + 1) + " of " + pageCount();
    document.getElementById("page-first").disabled = state.page === 0;
    document.getElementById("page-prev").disabled = state.page === 0;
    document.getElementById("page-next").disabled = state.page >= pageCount() - 1;
    document.getElementById("page-last").disabled = state.page >= pageCount() - 1;
  }

  function buildRow(row) {
    var incident = incidentOf(row) || {};
    var line = el("tr", "row");
    line.dataset.key = row.key;
    var toggle = el("button", "expander", state.open[row.key] ? "▾" : "▸");
    toggle.type = "button";
    toggle.setAttribute("aria-expanded", state.open[row.key] ? "true" : "false");
    toggle.setAttribute("aria-label", "Show details of " + row.key);
    var first = el("td");
    first.appendChild(toggle);
    var title = el("td", "title", incident.title || "");
    if (incident.title) { title.title = incident.title; }
    var cells = [
      first,
      el("td", "incident mono", row.incident_id),
      title,
      el("td", null, row.book),
      el("td", "num", row.repeat === null ? "–" : row.repeat),
      append(el("td"), [badge("status", row.status)]),
      append(el("td"), [badge("verdict", verdictOf(row))]),
      el("td", "num", formatScore(scoreOf(row))),
      hasRepeats ? append(el("td", "num"), [agreementBadge(row)]) : null,
      el("td", "num", formatSeconds(row.latency_s)),
      el("td", "num", row.attempts === null ? "–" : row.attempts),
      el("td", "num", row.http_status === null ? "–" : row.http_status)
    ];
    return append(line, cells);
  }

  function agreementBadge(row) {
    var agreement = agreementOf(row);
    if (!agreement) { return el("span", "muted", "–"); }
    var isSplit = agreement.top < agreement.scored;
    var text = el("span", "badge " + (isSplit ? "agree-split" : "agree-same"), agreement.top + "/" + agreement.scored);
    text.title = Object.keys(agreement.counts).sort().map(function (verdict) {
      return verdict + " " + agreement.counts[verdict];
    }).join(", ") + " over the scored repeats of this incident and book";
    return text;
  }

  function buildDetail(row) {
    var incident = incidentOf(row) || {};
    var primary = scoreEntry(row);
    var grid = el("div", "detail-grid");

    var keywords = null;
    if (incident.keywords && incident.keywords.length) {
      keywords = el("span", "chips");
      incident.keywords.forEach(function (word) { keywords.appendChild(el("span", "chip", word)); });
    }
    grid.appendChild(panel("label-panel", "Labeled root cause", [
      el("p", "text", incident.root_cause || "(no label for this incident)"),
      keyValues([["component", incident.component], ["category", incident.category],
        ["keywords", keywords], ["human verdict", incident.human_verdict]])
    ]));
    grid.appendChild(panel("answer-panel", "Highlights", [
      el("p", "text", row.highlights || "(no highlights)"),
      primary && primary[3] ? el("h3", null, "Extracted root-cause statement") : null,
      primary && primary[3] ? el("p", "text", primary[3]) : null
    ]));

    if (row.error) {
      var errorPanel = panel("error-panel wide", "Error", [el("pre", "text", row.error)]);
      grid.appendChild(errorPanel);
    }

    if (payload.scorers.length) {
      var table = el("table", "scores-table");
      var head = el("tr");
      ["scorer", "verdict", "score", "explanation", "evidence"].forEach(function (name) { head.appendChild(el("th", null, name)); });
      table.appendChild(append(el("thead"), [head]));
      var tbody = el("tbody");
      payload.scorers.forEach(function (name, index) {
        var entry = row.scores ? row.scores[index] : null;
        var line = el("tr");
        append(line, [
          el("td", index === state.scorer ? "mono" : "mono muted", name),
          append(el("td"), [badge("verdict", entry ? entry[1] : null)]),
          el("td", "num", formatScore(entry ? entry[0] : null)),
          el("td", "text", entry && entry[2] ? entry[2] : "–"),
          append(el("td"), [entry ? jsonDetails("evidence", entry[4]) : null])
        ]);
        tbody.appendChild(line);
      });
      table.appendChild(tbody);
      grid.appendChild(panel("wide", "Scores", [table]));
    }

    if (row.action_results && row.action_results.length) {
      var actions = el("ol", "items");
      row.action_results.forEach(function (item) {
        actions.appendChild(append(el("li"), [
          el("strong", null, item[0] || "(untitled action)"),
          item[1] ? el("p", "text", item[1]) : null,
          linkOrText(item[2])
        ]));
      });
      grid.appendChild(panel(null, "Action results", [actions]));
    }
    if (row.gadgets && row.gadgets.length) {
      var gadgets = el("ul", "items");
      row.gadgets.forEach(function (item) {
        gadgets.appendChild(append(el("li"), [
          el("strong", null, item[0] || "(untitled gadget)"),
          item[1] ? el("p", "text", item[1]) : null,
          jsonDetails("arguments", item[2])
        ]));
      });
      grid.appendChild(panel(null, "Gadget highlights", [gadgets]));
    }
    if (row.mitigations && row.mitigations.length) {
      var mitigations = el("ul", "items");
      row.mitigations.forEach(function (item) {
        mitigations.appendChild(append(el("li"), [
          el("strong", null, item[1] || item[0]),
          item[1] ? el("span", "muted", " (" + item[0] + ") ") : null,
          linkOrText(item[2]),
          jsonDetails("action", item[3])
        ]));
      });
      grid.appendChild(panel(null, "Mitigations", [mitigations]));
    }

    grid.appendChild(panel(null, "Execution", [keyValues([
      ["execution key", row.key], ["status", row.status], ["HTTP status", row.http_status],
      ["attempts", row.attempts], ["latency", formatSeconds(row.latency_s)],
      ["queued", row.queue_s ? formatSeconds(row.queue_s) : null],
      ["backoff", row.backoff_s ? formatSeconds(row.backoff_s) : null],
      ["started", row.started_at], ["finished", row.finished_at],
      ["enrichment", linkOrText(row.enrichment_link)]
    ])]));

    var extra = [];
    Object.keys(incident.attributes || {}).forEach(function (name) { extra.push(["attribute " + name, incident.attributes[name]]); });
    Object.keys(incident.metadata || {}).forEach(function (name) { extra.push([name, incident.metadata[name]]); });
    grid.appendChild(panel("wide", "Incident", [keyValues([
      ["incident", row.incident_id], ["dataset row", incident.row], ["time", incident.time],
      ["title", incident.title], ["details", incident.details],
      ["message link", linkOrText(incident.message_link)]
    ].concat(extra))]));

    var line = el("tr", "detail");
    var cell = el("td");
    cell.colSpan = COLUMN_COUNT;
    cell.appendChild(grid);
    line.appendChild(cell);
    return line;
  }

  function toggleRow(key) {
    if (state.open[key]) { delete state.open[key]; } else { state.open[key] = true; }
    renderPage();
  }

  // ---- controls ------------------------------------------------------------------------
  function fillSelect(id, values, labels) {
    var select = document.getElementById(id);
    values.forEach(function (value, index) {
      var option = el("option", null, labels ? labels[index] : value);
      option.value = String(value);
      select.appendChild(option);
    });
    return select;
  }
  var bookSelect = fillSelect("filter-book", payload.books);
  var statusSelect = fillSelect("filter-status", payload.statuses);
  var verdictSelect = fillSelect("filter-verdict", payload.verdicts.concat([NONE]), payload.verdicts.concat(["(no score)"]));
  var repeatsSelect = document.getElementById("filter-repeats");
  var groupBox = document.getElementById("group-repeats");
  var scorerSelect = fillSelect("filter-scorer", payload.scorers.map(function (name, index) { return index; }), payload.scorers);
  if (state.scorer >= 0) { scorerSelect.value = String(state.scorer); } else { scorerSelect.disabled = true; }
  var textInput = document.getElementById("filter-text");

  var typingTimer = null;
  textInput.addEventListener("input", function () {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { state.text = textInput.value; refresh(false); }, 120);
  });
  bookSelect.addEventListener("change", function () { state.book = bookSelect.value; refresh(false); });
  statusSelect.addEventListener("change", function () { state.status = statusSelect.value; refresh(false); });
  verdictSelect.addEventListener("change", function () { state.verdict = verdictSelect.value; refresh(false); });
  scorerSelect.addEventListener("change", function () {
    state.scorer = Number(scorerSelect.value);
    agreements = Object.create(null);
    refresh(true);
  });
  if (repeatsSelect) { repeatsSelect.addEventListener("change", function () { state.repeats = repeatsSelect.value; refresh(false); }); }
  if (groupBox) { groupBox.addEventListener("change", function () { state.isGrouped = groupBox.checked; refresh(false); }); }
  document.getElementById("filters").addEventListener("submit", function (event) { event.preventDefault(); });
  document.getElementById("filter-reset").addEventListener("click", function () {
    textInput.value = ""; bookSelect.value = ""; statusSelect.value = ""; verdictSelect.value = "";
    if (repeatsSelect) { repeatsSelect.value = ""; }
    state.text = state.book = state.status = state.verdict = state.repeats = "";
    refresh(false);
  });

  document.querySelectorAll("th[data-sort]").forEach(function (header) {
    header.querySelector("button").addEventListener("click", function () {
      var key = header.getAttribute("data-sort");
      state.sortDirection = state.sortKey === key ? -state.sortDirection : 1;
      state.sortKey = key;
      document.querySelectorAll("th[data-sort]").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
      header.setAttribute("aria-sort", state.sortDirection === 1 ? "ascending" : "descending");
      refresh(false);
    });
  });

  body.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("a, details, tr.detail")) { return; }
    var line = target.closest("tr.row");
    if (line) { toggleRow(line.dataset.key); }
  });

  function goTo(page) { state.page = Math.max(0, Math.min(page, pageCount() - 1)); renderPage(); }
  document.getElementById("page-first").addEventListener("click", function () { goTo(0); });
  document.getElementById("page-prev").addEventListener("click", function () { goTo(state.page - 1); });
  document.getElementById("page-next").addEventListener("click", function () { goTo(state.page + 1); });
  document.getElementById("page-last").addEventListener("click", function () { goTo(pageCount() - 1); });
  var sizeSelect = document.getElementById("page-size");
  sizeSelect.addEventListener("change", function () { state.pageSize = Number(sizeSelect.value); refresh(false); });

  refresh(false);
}());

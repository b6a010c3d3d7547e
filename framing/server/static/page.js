// The page of `framing serve`: sends the text to v1/detect and shows labels, scores and the evidence
// highlighted in the original text. Everything from the server or the user is put in the DOM as text
// (textContent, text nodes), never as HTML. Offsets are code points, like Python's str indices.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let model = null;

  function labelClass(label) {
    const i = model ? model.labels.indexOf(label) : -1;
    return "l" + (i < 0 ? 0 : i % 6);
  }

  function threshold(label, lang) {
    if (!model) return null;
    const group = ["zh-Hans", "zh-Hant", "yue", "zh"].includes(lang) ? "zh" : lang;
    const per = (model.lang_thresholds || {})[label] || {};
    return group in per ? per[group] : model.thresholds[label];
  }

  function highlight(container, text, evidence) {
    const cps = Array.from(text);
    const spans = evidence
      .filter((e) => Number.isInteger(e.start) && Number.isInteger(e.end) && e.start >= 0 && e.start < e.end && e.end <= cps.length)
      .sort((a, b) => a.start - b.start || b.end - a.end);
    let pos = 0;
    for (const e of spans) {
      if (e.start < pos) continue; // overlapping: the first span wins
      if (e.start > pos) container.append(document.createTextNode(cps.slice(pos, e.start).join("")));
      const m = document.createElement("mark");
      m.className = "ev " + labelClass(e.label);
      m.dataset.label = e.label;
      m.title = e.label + " (" + e.source + (e.term ? ": " + e.term : "") + ")";
      m.textContent = cps.slice(e.start, e.end).join("");
      container.append(m);
      pos = e.end;
    }
    if (pos < cps.length) container.append(document.createTextNode(cps.slice(pos).join("")));
  }

  function cell(tr, value, cls) {
    const td = document.createElement("td");
    td.textContent = value;
    if (cls) td.className = cls;
    tr.append(td);
  }

  function render(d) {
    const labels = $("labels");
    labels.replaceChildren();
    for (const lab of d.labels) {
      const s = document.createElement("span");
      s.className = "tag " + labelClass(lab);
      s.textContent = lab;
      labels.append(s);
    }
    if (!d.labels.length) {
      const s = document.createElement("span");
      s.className = "tag none";
      s.textContent = "no frame found";
      labels.append(s);
    }
    const lang = document.createElement("span");
    lang.className = "muted";
    lang.textContent = "language: " + d.language;
    labels.append(lang);
    const hl = $("highlighted");
    hl.replaceChildren();
    highlight(hl, d.text, d.evidence);
    const body = $("scores").tBodies[0];
    body.replaceChildren();
    for (const [lab, score] of Object.entries(d.scores)) {
      const tr = document.createElement("tr");
      const t = threshold(lab, d.language);
      cell(tr, lab);
      cell(tr, score.toFixed(3), "n");
      cell(tr, t == null ? "" : Number(t).toFixed(3), "n");
      cell(tr, d.labels.includes(lab) ? "over threshold" : "");
      body.append(tr);
    }
    const list = $("evidence-list");
    list.replaceChildren();
    for (const e of d.evidence) {
      const li = document.createElement("li");
      li.textContent = e.label + ": \u201c" + e.surface + "\u201d [" + e.start + ":" + e.end + "] (" + e.source + ")";
      list.append(li);
    }
    $("result").hidden = false;
  }

  async function run(ev) {
    if (ev) ev.preventDefault();
    const text = $("text").value;
    if (!text.trim()) return;
    $("error").hidden = true;
    $("status").textContent = "detecting\u2026";
    $("run").disabled = true;
    try {
      const r = await fetch("v1/detect", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ texts: [text], evidence: $("evidence").checked }),
      });
      const body = await r.json();
      if (!r.ok) throw new Error(body && body.error ? body.error.message : "HTTP " + r.status);
      render(body.results[0]);
      $("status").textContent = "";
    } catch (err) {
      $("result").hidden = true;
      $("error").textContent = "Error: " + err.message;
      $("error").hidden = false;
      $("status").textContent = "";
    } finally {
      $("run").disabled = false;
    }
  }

  async function start() {
    $("form").addEventListener("submit", run);
    try {
      const r = await fetch("v1/model");
      model = await r.json();
      $("model").textContent = "model " + model.version;
    } catch (err) {
      $("model").textContent = "";
    }
    const q = new URLSearchParams(location.search).get("text");
    if (q) {
      $("text").value = q;
      run();
    }
  }

  start();
})();

// The post-editor page: talks to the JSON API of `autogloss serve` only.
"use strict";

const state = { doc: null, lowConfidence: 0.5, polling: null };
const $ = (id) => document.getElementById(id);

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function setStatus(message) { $("status").textContent = message || ""; }

async function api(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    throw new Error("the autogloss server cannot be reached (" + error.message + ")");
  }
  if (!response.ok) {
    let detail = response.status + " " + response.statusText;
    try {
      const body = await response.json();
      if (body && body.detail) detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch (ignored) { /* not JSON: keep the status line */ }
    throw new Error(detail);
  }
  return response;
}

async function loadModels() {
  const info = await (await api("/api/models")).json();
  state.lowConfidence = info.low_confidence;
  state.maxUpload = info.max_upload_bytes;
  const models = $("model");
  const chosen = models.value;
  models.replaceChildren(...info.models.map((name) => new Option(name, name)));
  if (info.models.includes(chosen)) models.value = chosen;
  const formats = $("download-format");
  formats.replaceChildren(...info.formats.map((name) => new Option(name, name)));
}

async function glossInput(event) {
  event.preventDefault();
  showError("");
  const file = $("file").files[0];
  const text = $("text").value;
  const model = $("model").value;
  if (!file && !text.trim()) { showError("Paste some text or choose a file first."); return; }
  if (file && state.maxUpload && file.size > state.maxUpload) {
    showError("the file is too large: the limit is " + (state.maxUpload / 1048576) + " MB");
    return;
  }
  $("gloss-button").disabled = true;
  setStatus("glossing…");
  try {
    let response;
    if (file) {
      const form = new FormData();
      form.append("file", file);
      form.append("model", model);
      response = await api("/api/documents/upload", { method: "POST", body: form });
    } else {
      response = await api("/api/documents/text", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: text, model: model }),
      });
    }
    state.doc = await response.json();
    render();
    setStatus("");
  } catch (error) {
    showError(error.message);
    setStatus("");
  } finally {
    $("gloss-button").disabled = false;
  }
}

// A new element with its class and (as text, never as HTML) its content.
function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function glossInputFor(morpheme, wordIndex, morphIndex) {
  const input = element("input", "gloss state-" + morpheme.state);
  input.type = "text";
  input.value = morpheme.gloss;
  input.dataset.word = wordIndex;
  input.dataset.morph = morphIndex;
  input.dataset.original = morpheme.gloss;
  input.setAttribute("aria-label", "gloss of " + morpheme.form);
  if (morpheme.state === "guess" && morpheme.confidence !== null && morpheme.confidence < state.lowConfidence) {
    input.classList.add("low");
    input.title = "low confidence (" + morpheme.confidence.toFixed(2) + ")";
  }
  if (!morpheme.editable) {
    input.readOnly = true;
    input.title = "approved by a person: not editable here";
  }
  const fit = () => { input.size = Math.max(5, input.value.length + 1); };
  fit();
  input.addEventListener("input", () => {
    fit();
    input.classList.toggle("edited", input.value !== input.dataset.original);
  });
  return input;
}

function renderSentence(sentence) {
  const card = element("article", "sentence" + (sentence.accepted ? " accepted" : ""));
  card.dataset.index = sentence.index;
  const head = element("div", "sentence-head");
  const accept = element("button", "accept", sentence.accepted ? "Accept again" : "Accept");
  accept.type = "button";
  accept.addEventListener("click", () => acceptSentence(card, sentence.index));
  head.append(element("span", "id", (sentence.index + 1) + ". " + sentence.id));
  if (sentence.accepted) head.append(element("span", "badge", "accepted"));
  head.append(accept);
  const igt = element("div", "igt");
  sentence.words.forEach((word, wordIndex) => {
    const morphemes = element("div", "morphemes");
    word.morphemes.forEach((morpheme, morphIndex) => {
      const cell = element("div", "morpheme");
      cell.append(element("div", "mform", word.segmented ? morpheme.form : ""),
                  glossInputFor(morpheme, wordIndex, morphIndex));
      morphemes.append(cell);
    });
    const column = element("div", "word");
    column.append(element("div", "form", word.form), morphemes);
    igt.append(column);
  });
  card.append(head, igt);
  if (sentence.translation) card.append(element("div", "translation", "‘" + sentence.translation + "’"));
  return card;
}

// The sentence indices in the order chosen: the document's, or least confident first (from the server).
function sentenceOrder() {
  const doc = state.doc;
  if ($("order").value === "least-confident" && doc.least_confident.length === doc.sentences.length) {
    return doc.least_confident;
  }
  return doc.sentences.map((sentence) => sentence.index);
}

function renderSummary() {
  const doc = state.doc;
  const s = doc.summary;
  $("summary").textContent = doc.name + " · model " + doc.model + " · " + s.filled + " filled, " +
    s.kept + " kept, " + s.skipped + " skipped";
}

function render() {
  const doc = state.doc;
  $("document").hidden = false;
  renderSummary();
  showModelWarning(doc.warning);
  $("sentences").replaceChildren(...sentenceOrder().map((index) => renderSentence(doc.sentences[index])));
  showEffort(doc.effort);
}

function percent(share) { return Math.round(100 * share) + "%"; }

// How much of the work the model did, how much the linguist changed, and how well it agrees lately.
function showEffort(effort) {
  if (!effort) { $("effort").textContent = ""; return; }
  const parts = ["model filled " + effort.filled + " glosses", "you changed " + effort.changed + " of the " +
                 effort.reviewed + " you accepted"];
  if (effort.agreement !== null) {
    parts.push("agreement with you on the last " + effort.window_sentences + " accepted sentence" +
               (effort.window_sentences === 1 ? "" : "s") + ": " + percent(effort.agreement));
  }
  const byModel = Object.entries(effort.by_model).filter(([, counts]) => counts[0] > 0);
  if (byModel.length > 1) {
    parts.push(byModel.map(([name, counts]) => name + " " + percent(1 - counts[1] / counts[0]) + " of " +
                           counts[0]).join(", "));
  }
  $("effort").textContent = parts.join(" · ");
}

async function refreshEffort() {
  const effort = await (await api("/api/documents/" + state.doc.id + "/effort")).json();
  state.doc.effort = effort;
  showEffort(effort);
}

// Replace the page's document by the server's, keeping what the person typed and has not accepted yet.
function rerenderKeepingEdits(doc) {
  const typed = new Map();
  document.querySelectorAll("article.sentence").forEach((card) => {
    const edits = [...card.querySelectorAll("input.gloss.edited")].map((input) =>
      [Number(input.dataset.word), Number(input.dataset.morph), input.value]);
    if (edits.length) typed.set(Number(card.dataset.index), edits);
  });
  const before = state.doc;
  state.doc = doc;
  render();
  typed.forEach((edits, index) => {
    const card = document.querySelector('article.sentence[data-index="' + index + '"]');
    edits.forEach(([word, morph, value]) => {
      const old = before.sentences[index].words[word], now = doc.sentences[index].words[word];
      if (!card || !now || old.morphemes.length !== now.morphemes.length) return;  // cut again: cannot line up
      const input = card.querySelector('input.gloss[data-word="' + word + '"][data-morph="' + morph + '"]');
      if (input && !input.readOnly) {
        input.value = value;
        input.dispatchEvent(new Event("input"));
      }
    });
  });
}

function showLearning(job) {
  const box = $("learning");
  if (!job || job.state === "idle") { box.hidden = true; return; }
  box.hidden = false;
  box.className = job.state === "failed" ? "failed" : job.state === "done" ? "done" : "";
  const bar = $("learning-progress");
  let text;
  if (job.state === "done") {
    text = "Learned: " + job.message;
  } else if (job.state === "failed") {
    text = "Learning from the corrections failed: " + job.message;
  } else {
    text = "Learning from your corrections (" + job.model + ", from " + job.base + "): " + (job.phase || "starting");
    if (job.total) text += " · step " + job.done + "/" + job.total;
    if (job.eta !== null && job.eta !== undefined) text += " · about " + Math.ceil(job.eta) + " s left";
  }
  bar.hidden = !(job.total && job.state !== "failed");
  if (job.total) bar.value = job.state === "done" ? 1 : job.done / job.total;
  $("learning-text").textContent = text;
  $("learn-button").disabled = job.state === "training" || job.state === "re-glossing";
}

async function pollLearning() {
  state.polling = null;
  let job;
  try {
    job = await (await api("/api/learning")).json();
  } catch (error) {
    showError(error.message);
    state.polling = setTimeout(pollLearning, 2000);
    return;
  }
  showLearning(job);
  if (job.state === "training" || job.state === "re-glossing") {
    state.polling = setTimeout(pollLearning, 1000);
    return;
  }
  if (job.state === "done") {
    await loadModels();
    if (state.doc && job.document === state.doc.id) {
      rerenderKeepingEdits(await (await api("/api/documents/" + state.doc.id)).json());
      $("model").value = state.doc.model;
    }
  }
}

async function learnFromCorrections() {
  showError("");
  if (!state.doc) return;
  $("learn-button").disabled = true;
  try {
    const job = await (await api("/api/documents/" + state.doc.id + "/learn", { method: "POST" })).json();
    showLearning(job);
    if (!state.polling) state.polling = setTimeout(pollLearning, 500);
  } catch (error) {
    showError(error.message);
    $("learn-button").disabled = false;
  }
}

// What the model was not trained on (a language, plain text), above the sentences.
function showModelWarning(message) {
  let box = $("model-warning");
  if (!box) {
    box = document.createElement("p");
    box.id = "model-warning";
    box.setAttribute("role", "status");
    box.className = "model-warning";
    $("sentences").before(box);
  }
  box.textContent = message || "";
  box.hidden = !message;
}

async function acceptSentence(card, index) {
  showError("");
  const words = state.doc.sentences[index].words;
  const glosses = words.map((word) => word.morphemes.map(() => ""));
  card.querySelectorAll("input.gloss").forEach((input) => {
    glosses[Number(input.dataset.word)][Number(input.dataset.morph)] = input.value;
  });
  try {
    const response = await api("/api/documents/" + state.doc.id + "/sentences/" + index + "/accept", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ glosses: glosses }),
    });
    const sentence = await response.json();
    state.doc.sentences[index] = sentence;
    card.replaceWith(renderSentence(sentence));
    setStatus("sentence " + (index + 1) + " accepted and saved to the corrections file");
    await refreshEffort();
  } catch (error) {
    showError(error.message);
  }
}

async function downloadDocument() {
  showError("");
  if (!state.doc) return;
  const format = $("download-format").value;
  try {
    const response = await api("/api/documents/" + state.doc.id + "/download?format=" + encodeURIComponent(format));
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]+)"/.exec(disposition);
    const blob = await response.blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = match ? match[1] : "autogloss-download";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    setStatus("downloaded " + link.download);
  } catch (error) {
    showError(error.message);
  }
}

$("gloss-form").addEventListener("submit", glossInput);
$("download-button").addEventListener("click", downloadDocument);
$("learn-button").addEventListener("click", learnFromCorrections);
$("order").addEventListener("change", () => { if (state.doc) rerenderKeepingEdits(state.doc); });
loadModels().catch((error) => showError(error.message));
pollLearning();

// Progressive enhancement only: every page works without this script.
"use strict";

(function () {
  function formatSize(bytes) {
    return bytes < 1024 * 1024 ? Math.max(1, Math.round(bytes / 1024)) + " KiB" : (bytes / 1048576).toFixed(1) + " MiB";
  }

  function setupUpload() {
    var form = document.getElementById("upload-form");
    if (!form || !window.FormData || !window.XMLHttpRequest) return;
    var input = document.getElementById("files");
    var zone = document.getElementById("dropzone");
    var list = document.getElementById("file-list");
    var maxBytes = parseInt(form.dataset.maxBytes, 10);
    var maxFiles = parseInt(form.dataset.maxFiles, 10);
    var csrf = form.querySelector("input[name=csrf_token]").value;

    function showChosen() {
      list.textContent = "";
      Array.prototype.forEach.call(input.files, function (file) {
        var item = document.createElement("li");
        item.textContent = file.name + " (" + formatSize(file.size) + ")";
        if (file.size > maxBytes) {
          item.className = "too-big";
          item.textContent += ": too large, will be skipped";
        }
        list.appendChild(item);
      });
    }
    input.addEventListener("change", showChosen);

    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragover");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragover"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showChosen();
        input.focus();
      }
    });

    form.addEventListener("submit", function (event) {
      var files = Array.prototype.slice.call(input.files);
      if (!files.length) return; // let the server explain
      event.preventDefault();
      uploadAll(files.slice(0, maxFiles));
    });

    function uploadAll(files) {
      var panel = document.getElementById("progress");
      var bar = document.getElementById("progress-bar");
      var text = document.getElementById("progress-text");
      var outcomes = document.getElementById("progress-list");
      var button = document.getElementById("scan-button");
      var done = [];
      panel.hidden = false;
      panel.scrollIntoView({ block: "nearest" });
      outcomes.textContent = "";
      button.disabled = true;

      function next(index) {
        if (index >= files.length) return finish();
        var file = files[index];
        var prefix = files.length > 1 ? "File " + (index + 1) + " of " + files.length + ": " : "";
        if (file.size > maxBytes) {
          record({ ok: false, name: file.name, error: file.name + ": larger than the " + formatSize(maxBytes) + " limit" });
          return next(index + 1);
        }
        var data = new FormData();
        data.append("csrf_token", csrf);
        data.append("files", file, file.name);
        ["buyer", "vendor"].forEach(function (field) {
          var input = form.elements[field];
          if (input && input.value.trim()) data.append(field, input.value.trim());
        });
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.upload.addEventListener("progress", function (e) {
          if (e.lengthComputable) {
            bar.value = Math.round((e.loaded / e.total) * 100);
            text.textContent = prefix + "uploading " + file.name + " (" + bar.value + "%)";
          }
        });
        xhr.upload.addEventListener("load", function () {
          bar.removeAttribute("value"); // indeterminate while the server reads the contract
          text.textContent = prefix + "scanning " + file.name + "…";
        });
        xhr.addEventListener("load", function () {
          var answer;
          try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = { error: file.name + ": the server answered " + xhr.status }; }
          answer.ok = xhr.status === 200 && !!answer.url;
          answer.name = answer.name || file.name;
          record(answer);
          next(index + 1);
        });
        xhr.addEventListener("error", function () {
          record({ ok: false, name: file.name, error: file.name + ": the upload failed (connection lost or file too large)" });
          next(index + 1);
        });
        text.textContent = prefix + "uploading " + file.name;
        bar.value = 0;
        xhr.send(data);
      }

      function record(answer) {
        done.push(answer);
        var item = document.createElement("li");
        if (answer.ok) {
          var link = document.createElement("a");
          link.href = answer.url;
          link.textContent = answer.name + ": risk " + answer.risk + "/100, grade " + answer.grade;
          item.appendChild(link);
        } else {
          item.className = "outcome-error";
          item.textContent = "Not scanned: " + answer.error;
        }
        outcomes.appendChild(item);
      }

      function finish() {
        button.disabled = false;
        bar.value = 100;
        var good = done.filter(function (a) { return a.ok; });
        if (done.length === 1 && good.length === 1) {
          text.textContent = "Done. Opening the results…";
          window.location.assign(good[0].url);
          return;
        }
        text.textContent = "Done: " + good.length + " of " + done.length + " file(s) scanned. Open a result below.";
      }

      next(0);
    }
  }

  function setupFilter() {
    var form = document.getElementById("filter");
    if (!form) return;
    var status = document.getElementById("filter-status");
    function apply() {
      var chosen = function (name) {
        return Array.prototype.filter.call(form.querySelectorAll("input[name=" + name + "]"), function (box) { return box.checked; })
          .map(function (box) { return box.value; });
      };
      var severities = chosen("severity"), families = chosen("family");
      var shown = 0, total = 0;
      document.querySelectorAll("section.family").forEach(function (group) {
        var visibleInGroup = 0;
        group.querySelectorAll("section.finding").forEach(function (card) {
          var visible = (severities.length === 0 || severities.indexOf(card.dataset.severity) >= 0) &&
                        (families.length === 0 || families.indexOf(card.dataset.family) >= 0);
          card.hidden = !visible;
          total += 1;
          if (visible) { shown += 1; visibleInGroup += 1; }
        });
        group.hidden = visibleInGroup === 0;
      });
      status.textContent = "Showing " + shown + " of " + total + " finding(s).";
      var query = new URLSearchParams(new FormData(form)).toString();
      window.history.replaceState(null, "", form.action + (query ? "?" + query : ""));
    }
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupUpload();
    setupFilter();
  });
})();

// Resumable evidence uploads with tus-js-client (the global `tus`, vendor/tus.min.js).
//
// Enhances every <input type="file" data-tus-endpoint="..." data-csrf="...">: on change,
// each chosen file is sent in 8 MiB chunks with retries; a dropped connection or a reload
// resumes where the server stopped (the upload URL is kept in localStorage under the file's
// fingerprint). A Bootstrap progress bar shows percent and bytes. When the server has
// checked and stored the file, the input dispatches a bubbling `kaohe:uploaded` event with
// {uploadUrl, evidenceId, name}; the evidence id is the upload's id. Refusals show the
// server's own message (Kaohe-Error header, percent-encoded UTF-8).
(function () {
  "use strict";
  if (!window.tus || !window.tus.isSupported) { return; }

  var CHUNK_SIZE = 8 * 1024 * 1024;
  var RETRY_DELAYS = [0, 1000, 3000, 5000, 10000];
  var STATUS_MESSAGES = {
    403: "登录已过期或安全校验失败，请刷新页面后重试。",
    404: "上传不存在或已失效，请重新选择文件。",
    410: "该文件已被拒收，请检查后重新选择。",
    413: "文件过大，超过了允许的上限。",
    415: "不支持的文件类型。",
    422: "文件未通过检查。",
    423: "文件正在处理中，请稍后重试。",
    507: "服务器存储空间不足，请联系管理员。"
  };

  function formatBytes(bytes) {
    var units = ["B", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i += 1; }
    return (i === 0 ? bytes : bytes.toFixed(1)) + " " + units[i];
  }

  function errorMessage(error) {
    var response = error && error.originalResponse;
    if (!response) {
      return "网络中断，上传已暂停。重新选择同一文件即可从中断处继续。";
    }
    var header = response.getHeader("Kaohe-Error");
    if (header) {
      try { return decodeURIComponent(header); } catch (e) { /* fall through */ }
    }
    var status = response.getStatus();
    return STATUS_MESSAGES[status] || "上传失败（错误 " + status + "），请稍后重试。";
  }

  function evidenceIdOf(upload, lastResponse) {
    var header = lastResponse && lastResponse.getHeader("Kaohe-Evidence");
    if (header) { return header; }
    // Resumed uploads that were already complete answer a HEAD without the header.
    return upload.url.replace(/\/+$/, "").split("/").pop();
  }

  // One status block per file: a label, a progress bar and a cancel button.
  function statusBlock(input, file) {
    var block = document.createElement("div");
    block.className = "kh-upload-status small mt-1";
    block.innerHTML =
      '<div class="d-flex justify-content-between gap-2">' +
      '<span class="kh-upload-name text-truncate"></span>' +
      '<button type="button" class="btn btn-link btn-sm p-0 kh-upload-cancel">取消</button>' +
      "</div>" +
      '<div class="progress kh-upload-progress" role="progressbar" aria-valuemin="0" ' +
      'aria-valuemax="100" aria-valuenow="0">' +
      '<div class="progress-bar progress-bar-striped progress-bar-animated">0%</div></div>' +
      '<div class="kh-upload-bytes text-body-secondary"></div>' +
      '<div class="kh-upload-error text-danger d-none" role="alert"></div>';
    block.querySelector(".kh-upload-name").textContent = file.name;
    // The progress bar's accessible name (issue 21): which file it measures.
    block.querySelector(".progress").setAttribute("aria-label", "上传进度：" + file.name);
    // Set through the CSSOM: the Content-Security-Policy refuses style="" in markup.
    block.querySelector(".progress-bar").style.width = "0%";
    var anchor = input.closest("label") || input;
    anchor.insertAdjacentElement("afterend", block);
    return block;
  }

  function showProgress(block, sent, total) {
    var percent = total ? Math.floor((sent / total) * 100) : 100;
    var bar = block.querySelector(".progress-bar");
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    block.querySelector(".progress").setAttribute("aria-valuenow", String(percent));
    block.querySelector(".kh-upload-bytes").textContent =
      formatBytes(sent) + " / " + formatBytes(total);
  }

  function showError(block, message) {
    var bar = block.querySelector(".progress-bar");
    bar.classList.remove("progress-bar-animated", "progress-bar-striped");
    bar.classList.add("bg-danger");
    var box = block.querySelector(".kh-upload-error");
    box.textContent = message;
    box.classList.remove("d-none");
    block.querySelector(".kh-upload-cancel").classList.add("d-none");
  }

  function showDone(block) {
    var bar = block.querySelector(".progress-bar");
    bar.classList.remove("progress-bar-animated", "progress-bar-striped");
    bar.classList.add("bg-success");
    bar.textContent = "已上传";
    block.querySelector(".kh-upload-cancel").classList.add("d-none");
  }

  function uploadFile(input, file) {
    return new Promise(function (resolve) {
      var block = statusBlock(input, file);
      var upload = new window.tus.Upload(file, {
        endpoint: input.dataset.tusEndpoint,
        chunkSize: CHUNK_SIZE,
        retryDelays: RETRY_DELAYS,
        // filetype is informative only: the server judges the content.
        // step (data-tus-step): the step whose deadline applies, e.g. "rectification".
        metadata: { filename: file.name, filetype: file.type || "", step: input.dataset.tusStep || "" },
        headers: { "X-CSRFToken": input.dataset.csrf || "" },
        storeFingerprintForResuming: true,
        // A finished file chosen again is a new piece of evidence, not the old one.
        removeFingerprintOnSuccess: true,
        onProgress: function (sent, total) { showProgress(block, sent, total); },
        onError: function (error) {
          showError(block, errorMessage(error));
          resolve(false);
        },
        onSuccess: function (payload) {
          showDone(block);
          input.dispatchEvent(new CustomEvent("kaohe:uploaded", {
            bubbles: true,
            detail: {
              uploadUrl: upload.url,
              evidenceId: evidenceIdOf(upload, payload && payload.lastResponse),
              name: file.name
            }
          }));
          resolve(true);
        }
      });
      block.querySelector(".kh-upload-cancel").addEventListener("click", function () {
        // abort(true) also terminates the upload on the server (tus DELETE).
        upload.abort(true).catch(function () { /* already gone */ });
        showError(block, "已取消上传。");
        resolve(false);
      });
      showProgress(block, 0, file.size);
      upload.findPreviousUploads().then(function (previous) {
        if (previous.length) {
          upload.resumeFromPreviousUpload(previous[0]);
          // Say so: the bar then starts where the server stopped, not at 0%.
          block.querySelector(".kh-upload-name").textContent =
            file.name + "（从中断处继续上传）";
        }
        upload.start();
      });
    });
  }

  function enhance(input) {
    if (input.dataset.tusReady) { return; }
    input.dataset.tusReady = "1";
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length) { return; }
      input.disabled = true;
      // One file at a time, so that a slow county line is not split between several.
      files.reduce(function (previous, file) {
        return previous.then(function () { return uploadFile(input, file); });
      }, Promise.resolve()).then(function () {
        input.disabled = false;
        input.value = "";
      });
    });
  }

  function enhanceAll(root) {
    (root || document).querySelectorAll("input[type=file][data-tus-endpoint]").forEach(enhance);
  }

  enhanceAll(document);
  // Parts of pages swapped in by htmx get the same behaviour.
  document.addEventListener("htmx:load", function (event) { enhanceAll(event.target); });
})();

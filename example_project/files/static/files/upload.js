/* Direct uploads to S3/R2 through patchbay's endpoints: no dependency, no build step.
 *
 * 1. POST the file's name, type and size to patchbay's upload-credentials endpoint,
 *    with the CSRF token: a presigned POST (form_url, form_fields) and an upload_id.
 * 2. POST form_fields, then the file (S3 ignores any field after it), straight to
 *    form_url with XMLHttpRequest, whose upload.onprogress drives the progress bar
 *    (fetch cannot report upload progress).
 * 3. POST the upload_id to upload-confirm: the server reads the object's real size and
 *    type from the bucket and completes, or fails, the upload.
 * 4. Reload the list of the user's files. Each Delete links to the example's own confirm
 *    page (files:delete), which asks first and works with JavaScript off.
 */
(function () {
  "use strict";

  const widget = document.getElementById("upload-widget");
  if (!widget) return;
  const form = widget.querySelector("form");
  const fileInput = form.elements.file;
  const submitButton = form.querySelector("button[type=submit]");
  const progressBar = document.getElementById("upload-progress");
  const percentText = document.getElementById("upload-percent");
  const statusText = document.getElementById("upload-status");
  const errorText = document.getElementById("upload-error");
  const list = document.getElementById("upload-list");
  const csrfToken = form.elements.csrfmiddlewaretoken.value;
  // data-credentials-url, data-confirm-url, data-list-url
  const urls = widget.dataset;

  /** An error whose message is written for the person using the page. */
  class UploadError extends Error {}

  function formatBytes(bytes) {
    if (bytes < 1024) return `${bytes} bytes`;
    const units = ["KB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = -1;
    do {
      value /= 1024;
      unit += 1;
    } while (value >= 1024 && unit < units.length - 1);
    return `${value.toFixed(1)} ${units[unit]}`;
  }

  function showStatus(message) {
    statusText.textContent = message;
  }

  function showError(message) {
    errorText.textContent = message;
    errorText.hidden = !message;
  }

  function showProgress(loaded, total) {
    const percent = total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
    progressBar.value = percent;
    percentText.textContent = `${percent}%`;
  }

  /** POST form fields to one of patchbay's JSON endpoints; its answer, or an UploadError. */
  async function postToPatchbay(url, fields) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: {"X-CSRFToken": csrfToken, Accept: "application/json"},
        body: new URLSearchParams(fields),
        credentials: "same-origin",
      });
    } catch (error) {
      throw new UploadError("The server could not be reached.");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new UploadError(data.error || `The server answered ${response.status}.`);
      error.data = data;
      throw error;
    }
    return data;
  }

  /** The error S3 (or R2, or the simulated bucket) answered, from its XML <Error>. */
  function bucketRefusal(xhr) {
    const xml = new DOMParser().parseFromString(xhr.responseText || "", "application/xml");
    const message = xml.querySelector("Error > Message");
    const code = xml.querySelector("Error > Code");
    if (message && message.textContent.trim()) {
      const suffix = code ? ` (${code.textContent.trim()})` : "";
      return new UploadError(`The bucket refused the file: ${message.textContent.trim()}${suffix}`);
    }
    return new UploadError(`The bucket refused the file (HTTP ${xhr.status}).`);
  }

  /** Send the file to the bucket with the presigned form; resolves once it is stored. */
  function postToBucket(credentials, file) {
    return new Promise((resolve, reject) => {
      // A presigned PUT (Cloudflare R2) takes the bare file with the signed headers;
      // a presigned POST (S3, MinIO, simulation) takes a form with the file last.
      const isPut = credentials.method === "PUT";
      let body = file;
      if (!isPut) {
        body = new FormData();
        for (const [name, value] of Object.entries(credentials.form_fields)) {
          body.append(name, value);
        }
        body.append("file", file);  // last: S3 ignores the fields that follow the file
      }

      const xhr = new XMLHttpRequest();
      // Upload listeners must be in place before send(), or the browser reports no progress.
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) showProgress(event.loaded, event.total);
      };
      xhr.onload = () => {
        // 201 with success_action_status=201 (patchbay's default), 204 or 200 otherwise.
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else reject(bucketRefusal(xhr));
      };
      xhr.onerror = () => {
        reject(new UploadError(
          "The bucket could not be reached. Live, check its CORS rules allow this site.",
        ));
      };
      xhr.open(isPut ? "PUT" : "POST", credentials.form_url);
      for (const [name, value] of Object.entries(credentials.headers || {})) {
        xhr.setRequestHeader(name, value);
      }
      xhr.send(body);
    });
  }

  async function refreshList() {
    const response = await fetch(urls.listUrl, {credentials: "same-origin"});
    if (response.ok) list.innerHTML = await response.text();
  }

  async function upload(file) {
    showError("");
    showProgress(0, 1);
    showStatus(`Asking for an upload form for ${file.name}…`);
    let credentials;
    try {
      credentials = await postToPatchbay(urls.credentialsUrl, {
        filename: file.name,
        content_type: file.type,
        size: String(file.size),
      });
    } catch (error) {
      const limit = error.data && error.data.max_size;
      if (limit) {
        let [size, most] = [formatBytes(file.size), formatBytes(limit)];
        if (size === most) [size, most] = [`${file.size} bytes`, `${limit} bytes`];  // rounded alike
        throw new UploadError(
          `Not uploaded: ${file.name} is ${size}, larger than the ${most} limit.`,
        );
      }
      throw new UploadError(`Not uploaded: ${error.message}`);
    }

    showStatus(`Uploading ${file.name} (${formatBytes(file.size)})…`);
    try {
      await postToBucket(credentials, file);
    } catch (error) {
      // Let the server see for itself that nothing arrived: it marks the upload failed.
      await postToPatchbay(urls.confirmUrl, {upload_id: credentials.upload_id}).catch(() => {});
      throw error;
    }

    showStatus(`Confirming ${file.name}…`);
    let confirmed;
    try {
      confirmed = await postToPatchbay(urls.confirmUrl, {upload_id: credentials.upload_id});
    } catch (error) {
      throw new UploadError(`The upload could not be confirmed: ${error.message}`);
    }
    const stored = confirmed.upload;
    showStatus(`Uploaded ${stored.original_filename} (${formatBytes(stored.size)}).`);
  }

  function setBusy(busy) {
    submitButton.disabled = busy;
    fileInput.disabled = busy;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = fileInput.files[0];
    if (!file) {
      showError("Choose a file first.");
      return;
    }
    setBusy(true);
    try {
      await upload(file);
      form.reset();
    } catch (error) {
      showStatus("");
      showProgress(0, 1);
      showError(error instanceof UploadError ? error.message : `Unexpected error: ${error}`);
    } finally {
      setBusy(false);
      await refreshList();
    }
  });
})();

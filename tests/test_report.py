"""The Snakemake report: every figure with its caption and every executed notebook as HTML, checked
in the report file and in headless Chromium (Debian's package, installed when missing)."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import struct
import subprocess

import pytest
from conftest import TINY, snakemake

pytestmark = pytest.mark.workflow

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--no-first-run",
]  # fmt: skip

# Runs inside the report page: shows every result in the report's own viewer the way a click does,
# waits until the browser has decoded each figure (naturalWidth > 0) or mounted each notebook page,
# opens each result's info panel and looks for its caption; writes what it saw into the page.
CHECK_SCRIPT = """
<script>
(async () => {
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  const found = (sel, test) => [...document.querySelectorAll(sel)].find(test);
  const words = (s) => s.replace(/\\s+/g, " ").trim();
  const out = {};
  try {
    for (let i = 0; i < 400 && typeof app === "undefined"; i++) await wait(50);
    for (const [path, r] of Object.entries(results)) {
      let shown = null;
      const image = r.mime_type === "image/png";
      app.setView({ content: image ? "img" : "html", contentPath: r.data_uri, resultPath: path });
      for (let i = 0; i < 200 && !shown; i++) {
        await wait(50);
        if (image) {
          const img = found("img", (x) => x.src === r.data_uri);
          if (img && img.complete && img.naturalWidth > 0)
            shown = [img.naturalWidth, img.naturalHeight];
        } else if (found("iframe", (x) => x.src === r.data_uri)) {
          shown = "iframe";
        }
      }
      app.showResultInfo(path);
      await wait(100);
      const caption = new DOMParser().parseFromString(r.caption, "text/html").body.textContent;
      const page = words(document.body.innerText);
      out[path] = { shown: shown, caption: page.includes(words(caption)) };
    }
  } catch (err) {
    out.error = String(err);
  }
  const pre = document.createElement("pre");
  pre.id = "report-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""

# Shows Fig. 2 of paper A with its caption, for a screenshot.
SHOW_SCRIPT = """
<script>
(async () => {
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < 400 && typeof app === "undefined"; i++) await wait(50);
  const path = "results/figures/dropout_phases/fig2.png";
  app.showResultInfo(path);
  await wait(200);
  app.setView({ content: "img", contentPath: results[path].data_uri, resultPath: path });
})();
</script>
"""


def embedded(report: str, name: str):
    """A JSON variable the report embeds (``var <name> = {...};``)."""
    anchor = report.index(f'<script id="{name}">')
    start = report.index(f"var {name} = ", anchor) + len(f"var {name} = ")
    end = report.index("</script>", start)
    return json.loads(report[start:end].strip().rstrip(";"))


def data_bytes(uri: str) -> bytes:
    return base64.b64decode(uri.split("base64,", 1)[1])


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def report_html(tiny_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    snakemake("--report", str(path), "--directory", str(tiny_run), "--configfile", str(TINY))
    return path


def test_report_holds_every_figure_and_notebook(report_html, tiny_run):
    report = report_html.read_text()
    results = embedded(report, "results")
    figures = sorted((tiny_run / "results" / "figures").rglob("*.png"))
    notebooks = sorted((tiny_run / "results" / "notebooks").rglob("*.ipynb"))
    assert len(figures) >= 14 and len(notebooks) >= 13
    for png in figures:
        entry = results[str(png.relative_to(tiny_run))]
        assert data_bytes(entry["data_uri"]) == png.read_bytes()  # the figure itself
        assert "Paper" in entry["caption"], png  # a caption from report/<topic>/<name>.rst
    for notebook in notebooks:
        page = notebook.relative_to(tiny_run / "results" / "notebooks").with_suffix(".html")
        entry = results[f"results/notebooks_html/{page}"]
        body = data_bytes(entry["data_uri"]).decode()
        assert f"{notebook.parent.name}/{notebook.name}" in html.unescape(entry["caption"])
        # the rendered notebook, with its figure inline and no error output
        assert "data:image/png;base64," in body and "jp-OutputArea-output" in body, notebook
    assert set(embedded(report, "categories")) == {"Figures", "Notebooks"}
    assert len(results) == len(figures) + len(notebooks)


def chromium() -> str:
    """The Chromium executable, installed from Debian's package when missing; skip if impossible."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("Chromium is not installed and cannot be (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    for cmd in (install, ["apt-get", "update"], install):
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if cmd is install and result.returncode == 0:
            break
    if result.returncode != 0 or not shutil.which("chromium"):
        pytest.skip(f"apt-get could not install chromium: {result.stderr[-500:]}")
    return shutil.which("chromium")


def run_chromium(page, tmp_path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--virtual-time-budget=300000", *args, page.as_uri(),
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def with_script(report_html, script: str, path):
    text = report_html.read_text()
    end = text.rindex("</body>")
    path.write_text(text[:end] + script + text[end:])
    return path


@pytest.mark.browser
def test_report_opens_in_headless_chromium(report_html, tiny_run, tmp_path, capsys):
    page = with_script(report_html, CHECK_SCRIPT, tmp_path / "checked.html")
    dom = run_chromium(page, tmp_path, "--dump-dom")
    found = re.search(r'<pre id="report-check">(.*?)</pre>', dom.stdout, re.S)
    assert found, f"the check did not finish:\n{dom.stderr[-3000:]}"
    seen = json.loads(html.unescape(found[1]))
    assert "error" not in seen, seen
    results = embedded(report_html.read_text(), "results")
    assert set(seen) == set(results)
    for path, view in seen.items():
        assert view["caption"], f"{path}: caption not shown"
        if path.endswith(".png"):  # decoded by the browser at the figure's own size
            assert tuple(view["shown"]) == png_size((tiny_run / path).read_bytes()), path
        else:
            assert view["shown"] == "iframe", path

    shot = tmp_path / "report.png"
    page = with_script(report_html, SHOW_SCRIPT, tmp_path / "show.html")
    run_chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1600,1000")
    assert png_size(shot.read_bytes()) == (1600, 1000) and shot.stat().st_size > 50_000
    with capsys.disabled():
        print(f"\nreport: {len(seen)} results shown in Chromium; screenshot {shot}")

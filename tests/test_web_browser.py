"""The web page in a real browser: Debian's headless Chromium, driven by Selenium through chromedriver, against
`contract-audit serve` on 127.0.0.1. Screenshots go to a temporary folder; with CONTRACT_AUDIT_UPDATE_DOCS=1 the
results page is also saved as docs/web_results.png for the README."""
import base64
import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from .web_helpers import REPO, SAMPLES, corrupt_pdf, running_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SAMPLE_PDF = SAMPLES / "turnkey_ai_stack.pdf"
WAIT = 60


@pytest.fixture(scope="module")
def server():
    with running_server() as base:
        yield base


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    # Selenium Manager is never used (the driver path is given); these keep it offline if it ever were.
    os.environ.setdefault("SE_OFFLINE", "true")
    os.environ.setdefault("SE_AVOID_STATS", "true")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
                 "--window-size=1366,900", "--lang=en-US"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def wait_for_download(folder: Path, name: str, seconds: float = 30) -> Path:
    deadline = time.monotonic() + seconds
    path = folder / name
    while time.monotonic() < deadline:
        if path.is_file() and not (folder / (name + ".crdownload")).exists() and path.stat().st_size:
            return path
        time.sleep(0.1)
    raise AssertionError(f"{name} was not downloaded; folder holds {sorted(p.name for p in folder.iterdir())}")


def console_problems(driver) -> list[str]:
    # Answers with a 4xx status are expected (bad uploads, the missing page); anything else is a problem.
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and not re.search(r"status of 4\d\d", entry["message"])]


def save_docs_screenshot(driver, path: Path) -> None:
    if os.environ.get("CONTRACT_AUDIT_UPDATE_DOCS") != "1":
        return
    driver.set_window_size(1366, 1500)
    driver.execute_script("window.scrollTo(0, 0)")
    path.parent.mkdir(exist_ok=True)
    driver.save_screenshot(str(path))
    driver.set_window_size(1366, 900)


def test_upload_results_and_download(browser, server, shots, auditor):
    expected = auditor.audit_bytes(SAMPLE_PDF.read_bytes(), SAMPLE_PDF.name)
    browser.get(server)
    assert browser.title.startswith("Scan contracts")
    browser.find_element(By.ID, "files").send_keys(str(SAMPLE_PDF))
    assert SAMPLE_PDF.name in browser.find_element(By.ID, "file-list").text
    browser.save_screenshot(str(shots / "1-upload.png"))
    browser.find_element(By.ID, "scan-button").click()
    WebDriverWait(browser, WAIT).until(EC.url_contains("/results/"))

    assert browser.find_element(By.ID, "grade").text == expected.grade
    assert browser.find_element(By.ID, "risk-score").text.startswith(str(expected.risk_score))
    cards = browser.find_elements(By.CSS_SELECTOR, "section.finding")
    assert len(cards) == len(expected.findings)
    assert browser.find_elements(By.CSS_SELECTOR, "section.finding blockquote.clause mark")
    browser.save_screenshot(str(shots / "2-results.png"))
    save_docs_screenshot(browser, REPO / "docs" / "web_results.png")

    # Filter: only high-severity findings, without reloading the page.
    for box in browser.find_elements(By.CSS_SELECTOR, "#filter input[name=severity]"):
        if box.get_attribute("value") != "high" and box.is_selected():
            box.click()
    high = sum(1 for f in expected.findings if f.severity == "high")
    status = browser.find_element(By.ID, "filter-status").text
    assert status == f"Showing {high} of {len(expected.findings)} finding(s)."
    visible = [card for card in cards if card.is_displayed()]
    assert len(visible) == high and all(card.get_attribute("data-severity") == "high" for card in visible)
    assert "severity=high" in browser.current_url
    browser.save_screenshot(str(shots / "3-filtered.png"))

    # Downloads land as files with the contract's name.
    browser.find_element(By.CSS_SELECTOR, 'a[data-key="report.json"]').click()
    report = json.loads(wait_for_download(browser.downloads, "turnkey_ai_stack.audit.json").read_text())
    assert report["document"]["sha256"] == hashlib.sha256(SAMPLE_PDF.read_bytes()).hexdigest()
    assert report["score"] == {"risk": expected.risk_score, "grade": expected.grade}
    browser.find_element(By.CSS_SELECTOR, 'a[data-key="report.html"]').click()
    assert "Sovereignty audit" in wait_for_download(browser.downloads, "turnkey_ai_stack.audit.html").read_text()
    redline = browser.find_elements(By.CSS_SELECTOR, 'a[data-key="redline.docx"]')
    if redline:
        redline[0].click()
        assert wait_for_download(browser.downloads, "turnkey_ai_stack.redline.docx").read_bytes()[:2] == b"PK"
    else:
        assert "Redline (DOCX)" in browser.find_element(By.CSS_SELECTOR, ".downloads .hint").text
    assert console_problems(browser) == []


def test_drag_and_drop_several_files_with_a_bad_one(browser, server, shots):
    browser.get(server)
    text = (SAMPLES / "mixed_edge_inference.txt").read_text(encoding="utf-8")
    browser.execute_script(
        """
        const [text, broken] = arguments;
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], "dropped contract.txt", {type: "text/plain"}));
        const bytes = Uint8Array.from(atob(broken), c => c.charCodeAt(0));
        transfer.items.add(new File([bytes], "broken.pdf", {type: "application/pdf"}));
        const zone = document.getElementById("dropzone");
        for (const type of ["dragenter", "dragover", "drop"]) {
          zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
        """,
        text, base64.b64encode(corrupt_pdf()).decode(),
    )
    chosen = browser.find_element(By.ID, "file-list").text
    assert "dropped contract.txt" in chosen and "broken.pdf" in chosen
    browser.find_element(By.ID, "scan-button").click()
    WebDriverWait(browser, WAIT).until(EC.text_to_be_present_in_element((By.ID, "progress-text"), "Done: 1 of 2"))
    outcomes = browser.find_element(By.ID, "progress-list")
    assert "broken.pdf" in outcomes.find_element(By.CSS_SELECTOR, ".outcome-error").text
    browser.save_screenshot(str(shots / "4-dropped.png"))
    outcomes.find_element(By.PARTIAL_LINK_TEXT, "dropped contract.txt").click()
    WebDriverWait(browser, WAIT).until(EC.url_contains("/results/"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Audit of dropped contract.txt"


def test_check_a_clause_with_the_keyboard_only(browser, server, shots):
    browser.get(server + "clause")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(12):  # the skip link, the navigation, then the text box
        if browser.switch_to.active_element.get_attribute("id") == "clause-text":
            break
        browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "clause-text"
    browser.switch_to.active_element.send_keys(
        "The City shall not install any monitoring tool not approved by the Supplier.")
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Check"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(browser, WAIT).until(EC.presence_of_element_located((By.ID, "verdict")))
    assert "Red flags in: monitoring" in browser.find_element(By.ID, "verdict").text
    browser.save_screenshot(str(shots / "5-clause.png"))


def test_rules_page_shows_examples(browser, server, shots, auditor):
    browser.get(server + "rules")
    rules = browser.find_elements(By.CSS_SELECTOR, "article.rule")
    assert len(rules) == len(auditor.ruleset.active())
    rules[0].find_element(By.TAG_NAME, "summary").click()
    assert rules[0].find_element(By.CSS_SELECTOR, "ul.examples.positive li").is_displayed()
    browser.save_screenshot(str(shots / "6-rules.png"))


# A small accessibility audit run inside the page: labels, headings, language, names, and WCAG contrast.
AUDIT_SCRIPT = """
const problems = [];
if (!document.documentElement.lang) problems.push("no lang attribute");
if (document.querySelectorAll("h1").length !== 1) problems.push("expected exactly one h1");
for (const field of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
  const labelled = (field.id && document.querySelector(`label[for="${field.id}"]`)) || field.closest("label")
    || field.getAttribute("aria-label") || field.getAttribute("aria-labelledby");
  if (!labelled) problems.push("unlabelled field " + (field.name || field.id));
}
for (const control of document.querySelectorAll("a[href], button")) {
  if (!control.textContent.trim() && !control.getAttribute("aria-label")) problems.push("control without a name");
}
function rgba(value) { const m = value.match(/[\\d.]+/g).map(Number); return m.length === 3 ? [...m, 1] : m; }
function luminance([r, g, b]) {
  const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
function background(el) {
  for (; el; el = el.parentElement) { const bg = rgba(getComputedStyle(el).backgroundColor); if (bg[3] > 0.5) return bg; }
  return [255, 255, 255, 1];
}
for (const el of document.querySelectorAll("body *")) {
  const ownText = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!ownText || !el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
  const style = getComputedStyle(el);
  const [l1, l2] = [luminance(rgba(style.color)), luminance(background(el))].sort((a, b) => b - a);
  const ratio = (l1 + 0.05) / (l2 + 0.05);
  const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && parseInt(style.fontWeight) >= 700);
  if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)} on <${el.tagName.toLowerCase()}> "${el.textContent.trim().slice(0, 30)}"`);
}
return problems;
"""


def test_pages_pass_a_basic_accessibility_audit(browser, server):
    browser.get(server)
    browser.find_element(By.ID, "files").send_keys(str(SAMPLES / "protected_cloud_services.docx"))
    browser.find_element(By.ID, "scan-button").click()
    WebDriverWait(browser, WAIT).until(EC.url_contains("/results/"))
    results = browser.current_url
    for address in (server, results, server + "clause", server + "rules", server + "api/", server + "results/nowhere-at-all-x"):
        browser.get(address)
        assert browser.execute_script(AUDIT_SCRIPT) == [], address
    assert console_problems(browser) == []

"""The batch dashboard in a real browser (Debian's headless Chromium, as in test_web_browser.py): at 1,440 px
the table of files shows its error and duplicate columns whole, wrapped, without clipping or overlap."""
import pytest

from contract_audit.batch import BatchOptions, run_batch

from .conftest import REPO
from .test_web_browser import browser, shots  # noqa: F401 - fixtures
from .test_web_browser import By

LONG_FOLDER = "tenders/2026/north-district/data-centre-campus/lot-3-managed-inference-cluster"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    root = tmp_path_factory.mktemp("dashboard")
    inputs = root / "in"
    (inputs / LONG_FOLDER).mkdir(parents=True)
    contract = (REPO / "sample_contracts" / "turnkey_ai_stack.txt").read_bytes()
    (inputs / "turnkey.txt").write_bytes(contract)
    (inputs / LONG_FOLDER / "turnkey_ai_stack_signed_copy_returned_by_the_supplier_final_v3.txt").write_bytes(contract)
    (inputs / "tender_response_with_a_long_name_as_procurement_portals_produce_FINAL_v2.pdf").write_bytes(b"%PDF-1.4 x")
    (inputs / "annex.docx").write_bytes(b"PK\x03\x04 not really a document")
    run_batch([str(inputs)], BatchOptions(out=root / "out", jobs=1, formats=("html",), progress=False))
    return root / "out" / "dashboard.html"


def test_error_and_duplicate_columns_are_readable_at_1440_px(browser, shots, dashboard):  # noqa: F811
    browser.set_window_size(1440, 1000)
    browser.get(dashboard.as_uri())
    table = browser.find_element(By.CSS_SELECTOR, "table.docs")
    browser.execute_script("arguments[0].scrollIntoView()", table)
    table.screenshot(str(shots / "dashboard-1440.png"))
    panel = browser.execute_script("return arguments[0].parentElement.getBoundingClientRect()", table)
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].parentElement.clientWidth", table)
    notes = table.find_elements(By.CSS_SELECTOR, "td.note")
    assert {n.text.split(" ")[0] for n in notes if n.text} == {"identical", "not"}  # duplicates and errors
    for row in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cells = [browser.execute_script("const r = arguments[0].getBoundingClientRect();"
                                        "return [r.left, r.right, arguments[0].scrollWidth <= arguments[0].clientWidth]",
                                        cell) for cell in row.find_elements(By.TAG_NAME, "td")]
        assert all(fits for _, _, fits in cells), row.text  # no text runs out of its cell
        assert all(right <= next_left + 0.5 for (_, right, _), (next_left, _, _) in zip(cells, cells[1:]))
        assert cells[-1][1] <= panel["right"], row.text  # the last column is inside the visible panel

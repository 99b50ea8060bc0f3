"""The association's main journey in a real browser: publish a standard version, record an
audit, sign it off, decide (a different person), issue a certificate, then suspend it.
Screenshots of each main screen go to test-artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.files.demo_images import minimal_pdf
from tests.browser import DESKTOP, fill_audit_results, sign_in

pytestmark = pytest.mark.browser

VERSION = "2026.1"
GTIN = "6923456789050"  # a Shanyuan Tea product of this journey only


def _shot(page: Any, artifacts_dir: Any, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"association-{name}.png"), full_page=True)


def _new_page(browser: Any, locale: str = "en-GB") -> Any:
    return browser.new_context(viewport=DESKTOP, locale=locale).new_page()


def test_publish_audit_decide_issue_and_suspend(
    live_server, browser, desktop_page, artifacts_dir
) -> None:
    admin = desktop_page
    url = live_server.url
    sign_in(admin, live_server, "association_admin")

    # 1. The admin drafts version 2026.1 from 1.0, tightens moisture, and publishes it.
    admin.goto(f"{url}/portal/standards")
    admin.click("text=T/QMTA 001-2024")
    admin.click("text=Draft a new version starting from 1.0")
    admin.fill("#f-version", VERSION)
    admin.fill("#f-effective_from", "2026-01-01")
    admin.fill("#f-criteria-0-threshold", "6.5")
    _shot(admin, artifacts_dir, "standard-editor")
    admin.click("button:has-text('Save the draft')")
    assert f"Draft {VERSION} saved." in admin.inner_text("main")
    admin.click("text=Back to the draft")
    admin.click("text=Publish…")
    assert "becomes superseded" in admin.inner_text("main")
    _shot(admin, artifacts_dir, "standard-publish")
    admin.click(f"button:has-text('Publish version {VERSION}')")
    assert "Content hash" in admin.inner_text(".flash")
    admin.click("text=Compare with 1.0")
    diff = admin.inner_text("table.diff")
    assert "Criterion moisture · Threshold" in diff and "6.5" in diff
    _shot(admin, artifacts_dir, "standard-compare")

    # 2. The auditor opens an audit of Shanyuan Tea against it, records results and evidence.
    auditor = _new_page(browser)
    sign_in(auditor, live_server, "association_auditor")
    auditor.goto(f"{url}/portal/audits/new")
    auditor.select_option("#f-brand", "qimen-black-tea")
    auditor.select_option("#f-firm", "shanyuan-tea")
    auditor.select_option("#f-standard_version_id", label=f"T/QMTA 001-2024 {VERSION}")
    auditor.fill("#f-products-0-gtin", GTIN)
    auditor.fill("#f-products-0-name_zh", "山源祁红 特级")
    auditor.fill("#f-products-0-name_en", "Shanyuan Keemun, special grade")
    auditor.fill("#f-sites-0-name", "山源初制所")
    auditor.fill("#f-sites-0-address", "祁门县箬坑乡")
    auditor.click("button:has-text('Open the audit')")
    audit_url = auditor.url
    assert re.search(r"/portal/audits/\d+$", audit_url)
    fill_audit_results(auditor)
    auditor.click("button:has-text('Save the results')")
    assert "11 results saved." in auditor.inner_text(".flash")
    auditor.set_input_files(
        "#f-file",
        {"name": "lab.pdf", "mimeType": "application/pdf", "buffer": minimal_pdf("Shanyuan lab")},
    )
    auditor.fill("#f-description", "第三方检测报告 / lab report")
    auditor.click("button:has-text('Attach the file')")
    _shot(auditor, artifacts_dir, "audit-results")
    auditor.click("text=Sign off…")
    assert "Pass" in auditor.inner_text("main")
    _shot(auditor, artifacts_dir, "audit-sign-off")
    auditor.click("form.stack button:has-text('Sign off')")
    assert "awaits a decision" in auditor.inner_text(".flash")
    assert "Decide…" not in auditor.inner_text("main")  # the auditor never decides

    # 3. The admin, who took no part, decides and issues the certificate.
    admin.goto(audit_url)
    assert "李明 Li Ming" in admin.inner_text("section.who")
    admin.click("text=Decide…")
    _shot(admin, artifacts_dir, "audit-decision")
    admin.check("input[name=outcome][value=granted]")
    admin.fill("#f-reason", "全部强制性指标符合 / every mandatory criterion is met")
    admin.click("button:has-text('Record the decision')")
    assert "Certification granted" in admin.inner_text(".flash")
    admin.click("text=Issue a certificate on this decision")
    admin.fill("#f-label_quota", "5000")
    _shot(admin, artifacts_dir, "certificate-issue")
    admin.click("button:has-text('Issue and sign the certificate')")
    number = re.search(r"/portal/certificates/([A-Z0-9-]+)$", admin.url).group(1)
    assert "in force" in admin.inner_text("main")
    _shot(admin, artifacts_dir, "certificate")

    # 4. The admin suspends it: the public page says it is not in force.
    admin.click("text=Suspend…")
    admin.fill("#f-reason", "监督抽检水分超标 / moisture above the limit in a sample")
    _shot(admin, artifacts_dir, "certificate-suspend")
    admin.click(f"button:has-text('Suspend certificate {number}')")
    assert f"Certificate {number} is suspended." in admin.inner_text(".flash")
    _shot(admin, artifacts_dir, "certificate-suspended")
    public = _new_page(browser)
    public.goto(f"{url}/certificates/{number}")
    assert "Not in force" in public.inner_text(".verdict")

    # 5. The overview, in Chinese.
    admin.goto(f"{url}/portal/overview?lang=zh-CN")
    assert "获证企业" in admin.inner_text("main")
    _shot(admin, artifacts_dir, "overview-zh")
    for page in (auditor, public):
        page.context.close()

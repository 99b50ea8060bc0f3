"""zh-CN and en throughout: every translatable text has a Chinese translation."""

import ast

from flask_babel import lazy_gettext, lazy_ngettext
from markupsafe import escape

from tools.i18n import APP, missing

LAZY_CALLS = {"lazy_gettext", "lazy_ngettext", "lazy_pgettext", "lazy_npgettext"}


def test_every_message_has_a_chinese_translation() -> None:
    gaps = missing()
    assert not gaps, "run `python -m tools.i18n update` and translate:\n" + "\n".join(
        f"{catalogue}: {msgid}" for catalogue, msgid in gaps
    )


def test_pages_switch_language_explicitly_and_by_accept_language(client) -> None:
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    chinese = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    text = chinese.get_data(as_text=True)
    assert '<html lang="zh-CN">' in text and "区域品牌认证与追溯" in text
    override = client.get("/?lang=en", headers={"Accept-Language": "zh-CN"})
    assert "Regional brand certification and traceability" in override.get_data(as_text=True)
    # The explicit choice is remembered.
    again = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in again.get_data(as_text=True)


def test_withdrawn_reads_the_same_in_every_catalogue() -> None:
    # The catalogues are merged into one per language: an id translated two ways shows the
    # last catalogue's wording on every page (the firm overview, the scan page), so the
    # status must read alike wherever it is defined.
    from babel.messages.pofile import read_po

    from app.i18n import load_translations
    from tools.i18n import APP

    translations = {}
    for po in sorted(APP.glob("**/translations/zh_CN/LC_MESSAGES/messages.po")):
        with po.open("rb") as handle:
            for message in read_po(handle):
                if str(message.id).lower() == "withdrawn" or "废止" in str(message.string):
                    translations[f"{po.relative_to(APP).parts[0]}: {message.id}"] = message.string
    assert translations and set(translations.values()) == {"已撤销"}, translations
    merged = load_translations("zh_CN")
    assert merged.gettext("withdrawn") == merged.gettext("Withdrawn") == "已撤销"


def test_no_message_is_translated_two_ways() -> None:
    # The catalogues are merged into one per language, so an id with two translations shows
    # one of them everywhere: where the meaning differs, the English must differ too.
    from tools.i18n import conflicts

    clashes = conflicts()
    assert not clashes, "give these one translation, or distinct English ids:\n" + "\n".join(
        f"{msgid!r}: {found}" for msgid, found in clashes.items()
    )


def _catalogue(path, entries: dict[str, str]):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(locale="zh_CN", project="brandtrace")
    for msgid, text in entries.items():
        catalog.add(msgid, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)
    return path


def test_the_check_reports_an_id_translated_differently(tmp_path, monkeypatch, capsys) -> None:
    import tools.i18n
    from tools.i18n import conflicts, main

    people = _catalogue(tmp_path / "a" / "messages.po", {"Name": "姓名", "Reason": "理由"})
    things = _catalogue(tmp_path / "b" / "messages.po", {"Name": "名称", "Reason": "理由"})
    assert conflicts([people, things]) == {"Name": {str(people): "姓名", str(things): "名称"}}
    assert conflicts([people]) == {}

    # `python -m tools.i18n check` fails and names the id and both translations.
    monkeypatch.setattr(tools.i18n, "missing", lambda: [])
    monkeypatch.setattr(tools.i18n, "owners", lambda: [tmp_path / "a", tmp_path / "b"])
    monkeypatch.setattr(tools.i18n, "po_path", lambda owner: owner / "messages.po")
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "'Name'" in out and "姓名" in out and "名称" in out and "Reason" not in out


def _lazy_calls_with_values(source: str) -> list[int]:
    """Lines of ``lazy_*`` calls given values to fill in (keyword arguments)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.keywords:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in LAZY_CALLS:
                lines.append(node.lineno)
    return lines


def test_no_value_is_interpolated_into_a_lazy_string() -> None:
    # A lazy string is markup to Jinja (``__html__``): values filled into one reach the page
    # unescaped. Texts with values are made at request time with gettext (see app/i18n.py).
    assert _lazy_calls_with_values('lazy_gettext("Key %(k)s", k=key)') == [1]  # the scan works
    offenders = [
        f"{path}:{line}"
        for path in sorted(APP.rglob("*.py"))
        for line in _lazy_calls_with_values(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "use gettext(...) at request time instead:\n" + "\n".join(offenders)


def test_a_lazy_string_with_values_escapes_them_anyway(app) -> None:
    payload = "<img src=x onerror=alert(1)>"
    with app.test_request_context("/?lang=en"):
        filled = lazy_gettext("Not a verifier key (%(problem)s).", problem=payload)
        assert str(filled) == f"Not a verifier key ({payload})."
        assert "&lt;img src=x" in escape(filled) and "<img" not in escape(filled)
        rendered = app.jinja_env.from_string("{{ text }}").render(text=filled)
        assert "&lt;img src=x" in rendered and "<img" not in rendered
        plural = lazy_ngettext("%(num)s key %(name)s", "%(num)s keys %(name)s", 2, name=payload)
        assert "<img" not in escape(plural) and "2 keys &lt;img" in escape(plural)
        # Templates' own _() with values escapes them (newstyle gettext under autoescape).
        in_template = app.jinja_env.from_string('{{ _("Key %(k)s.", k=value) }}')
        assert in_template.render(value=payload) == "Key &lt;img src=x onerror=alert(1)&gt;."
        # A constant lazy string is still translator text, as Flask-Babel made it.
        assert escape(lazy_gettext("Not found")) == "Not found"


def test_every_chinese_region_has_its_chinese_name_on_chinese_pages(app) -> None:
    import re

    import pycountry

    from app.i18n import region_name

    codes = sorted(s.code for s in pycountry.subdivisions.get(country_code="CN"))
    with app.test_request_context("/?lang=zh-CN"):
        names = {code: region_name(code, "?") for code in codes}
        assert region_name("cn-ah", "?") == "安徽省"
    assert names["CN-AH"] == "安徽省" and names["CN-NX"] == "宁夏回族自治区"
    romanised = {code: name for code, name in names.items() if re.search(r"[A-Za-z]", name)}
    assert not romanised, romanised
    with app.test_request_context("/?lang=en"):
        assert region_name("CN-AH", "?") == "Anhui Sheng"

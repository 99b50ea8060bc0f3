"""zh-CN and en throughout: every translatable text has a Chinese translation."""

from tools.i18n import missing


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

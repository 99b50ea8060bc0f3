"""Translations (zh-CN and en) for every user-facing text.

The locale comes from an explicit ``?lang=`` (remembered in a cookie), else Accept-Language.
Catalogues are plain ``.po`` files, one per domain package (``app/<domain>/translations``), read
at start-up: no compiled files to forget, and helpers working on different domains never edit
the same catalogue.

Escaping rule: a lazy string (``lazy_gettext`` and friends) is a constant text, defined at
import time; values are never interpolated into one. Text with values is made at request time
with ``gettext(..., name=value)``, which returns a plain ``str`` that Jinja escapes. Flask-Babel's
``LazyString`` has ``__html__``, so Jinja and ``markupsafe`` take it as safe markup: a lazy
string with values would put them on the page unescaped. ``tests/test_i18n.py`` fails on any
lazy call with values in ``app/``, and, should one slip through anyway, the patch below makes
such a string escape itself (a constant lazy string stays as Flask-Babel made it: translator
text, which Flask's JSON encoder also reads through ``__html__``).
"""

from __future__ import annotations

import gettext as stdlib_gettext
import io
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from types import MappingProxyType

import pycountry
from babel.core import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask, current_app, has_request_context, request
from flask_babel import Domain
from flask_babel.speaklater import LazyString
from markupsafe import escape

LOCALES = ("en", "zh_CN")
HTML_LANG = {"en": "en", "zh_CN": "zh-CN"}
LOCALE_COOKIE = "lang"
APP_ROOT = Path(__file__).resolve().parent


_CONSTANT_LAZY_HTML = LazyString.__html__


def _lazy_html(self: LazyString) -> str:
    if self._kwargs:  # values were interpolated (see the module docstring): text, not markup
        return escape(str(self))
    return _CONSTANT_LAZY_HTML(self)


LazyString.__html__ = _lazy_html


def _normalise(value: str | None) -> str | None:
    if not value:
        return None
    value = value.replace("-", "_").lower()
    if value.startswith("zh"):
        return "zh_CN"
    if value.startswith("en"):
        return "en"
    return None


# Parsed once: Flask-Babel parses whatever the selector returns, on every request, and a
# parsed locale passes through as it is.
_PARSED = {locale: Locale.parse(locale) for locale in LOCALES}


def select_locale() -> Locale:
    if not has_request_context():
        return _PARSED["en"]  # CLI commands and background work speak English
    environ = request.environ
    # Only what the request sent is parsed (most API and scan requests send none of these).
    explicit = (environ.get("QUERY_STRING") and _normalise(request.args.get("lang"))) or (
        environ.get("HTTP_COOKIE") and _normalise(request.cookies.get(LOCALE_COOKIE))
    )
    if explicit:
        return _PARSED[explicit]
    if not environ.get("HTTP_ACCEPT_LANGUAGE"):
        return _PARSED["en"]
    best = request.accept_languages.best_match(["en", "zh-CN", "zh", "zh-Hans", "zh-TW"])
    return _PARSED[_normalise(best) or "en"]


def catalogue_dirs() -> list[Path]:
    return sorted(path for path in APP_ROOT.glob("**/translations") if path.is_dir())


def load_translations(locale: str) -> Translations:
    """Merge every domain's catalogue for ``locale`` into one ``Translations``."""
    merged = Translations()
    for directory in catalogue_dirs():
        po_path = directory / locale / "LC_MESSAGES" / "messages.po"
        if not po_path.exists():
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        merged.merge(Translations(fp=buffer))
    return merged


class CatalogueDomain(Domain):
    """A Flask-Babel domain that reads our .po catalogues once per process."""

    def get_translations(self) -> Translations:
        from flask_babel import get_locale

        locale = _normalise(str(get_locale() or "en")) or "en"
        cache: dict[str, Translations] = current_app.extensions.setdefault("brandtrace.i18n", {})
        if locale not in cache:
            cache[locale] = load_translations(locale) if locale != "en" else Translations()
        return cache[locale]


_NAMES: dict[object, str] = {}


def current_locale() -> str:
    """``en`` or ``zh_CN`` (Babel itself spells the latter ``zh_Hans_CN``)."""
    from flask_babel import get_locale

    locale = get_locale()
    # Asked a dozen times per page: each Babel locale's name is worked out once per process.
    name = _NAMES.get(locale)
    if name is None:
        name = _NAMES[locale] = _normalise(str(locale or "en")) or "en"
    return name


def local_text(zh: str, en: str) -> str:
    """Of a text written in both languages, the one of the page's language."""
    return zh if current_locale() == "zh_CN" else en


def html_lang() -> str:
    return HTML_LANG.get(current_locale(), "en")


def init_i18n(app: Flask) -> None:
    from app.extensions import babel

    babel.init_app(app, locale_selector=select_locale, default_domain="messages")
    # Flask-Babel's gettext (Python and Jinja) asks this domain for the catalogue.
    babel.domain_instance = CatalogueDomain()

    @app.after_request
    def _remember_locale(response):
        explicit = _normalise(request.args.get("lang"))
        if explicit:
            response.set_cookie(
                LOCALE_COOKIE,
                explicit,
                max_age=365 * 86400,
                samesite="Lax",
                secure=app.config["SESSION_COOKIE_SECURE"],
                httponly=True,
            )
        return response

    app.jinja_env.globals.update(html_lang=html_lang, current_locale=current_locale)


# China's provinces, autonomous regions, municipalities and SARs by their Chinese names: the
# regions this service serves must never fall back to their romanised ISO names ("Anhui Sheng")
# on a Chinese page, whatever pycountry's catalogue holds (it lacks Ningxia, for one).
CHINESE_REGION_NAMES = MappingProxyType(
    {
        "CN-AH": "安徽省",
        "CN-BJ": "北京市",
        "CN-CQ": "重庆市",
        "CN-FJ": "福建省",
        "CN-GD": "广东省",
        "CN-GS": "甘肃省",
        "CN-GX": "广西壮族自治区",
        "CN-GZ": "贵州省",
        "CN-HA": "河南省",
        "CN-HB": "湖北省",
        "CN-HE": "河北省",
        "CN-HI": "海南省",
        "CN-HK": "香港特别行政区",
        "CN-HL": "黑龙江省",
        "CN-HN": "湖南省",
        "CN-JL": "吉林省",
        "CN-JS": "江苏省",
        "CN-JX": "江西省",
        "CN-LN": "辽宁省",
        "CN-MO": "澳门特别行政区",
        "CN-NM": "内蒙古自治区",
        "CN-NX": "宁夏回族自治区",
        "CN-QH": "青海省",
        "CN-SC": "四川省",
        "CN-SD": "山东省",
        "CN-SH": "上海市",
        "CN-SN": "陕西省",
        "CN-SX": "山西省",
        "CN-TJ": "天津市",
        "CN-TW": "台湾省",
        "CN-XJ": "新疆维吾尔自治区",
        "CN-XZ": "西藏自治区",
        "CN-YN": "云南省",
        "CN-ZJ": "浙江省",
    }
)


@cache
def _subdivision_names(locale: str) -> stdlib_gettext.NullTranslations:
    language = "zh_CN" if locale == "zh_CN" else "en"
    return stdlib_gettext.translation(
        "iso3166-2", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def region_name(code: str | None, unknown: str) -> str:
    """An ISO 3166-2 code's name in the page language (安徽省 / Anhui Sheng); the code itself
    when pycountry does not know it, ``unknown`` when there is no code."""
    if not code:
        return unknown
    subdivision = pycountry.subdivisions.get(code=code)
    if subdivision is None:
        return code
    locale = current_locale()
    if locale == "zh_CN" and subdivision.code in CHINESE_REGION_NAMES:
        return CHINESE_REGION_NAMES[subdivision.code]
    return _subdivision_names(locale).gettext(subdivision.name)


def list_text(items: Iterable[object]) -> str:
    """Items joined as the page language lists them ("a, b and c" / "a、b和c")."""
    from babel.lists import format_list
    from flask_babel import get_locale

    return format_list([str(item) for item in items], locale=get_locale() or "en")

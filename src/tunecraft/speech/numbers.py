"""Numbers read as words, in English, Spanish and Portuguese (SSML ``say-as``, and plain
digits in text a voice speaks): cardinals up to 999,999,999,999 and ordinals up to 100."""

from __future__ import annotations

from ..errors import ParameterError

LANGUAGES = ("en", "es", "pt")
LIMIT = 10**12

_EN_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ES_ONES = ("cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce "
            "quince dieciséis diecisiete dieciocho diecinueve veinte veintiuno veintidós "
            "veintitrés veinticuatro veinticinco veintiséis veintisiete veintiocho "
            "veintinueve").split()
_ES_TENS = "_ _ veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa".split()
_ES_HUNDREDS = ("_ ciento doscientos trescientos cuatrocientos quinientos seiscientos "
                "setecientos ochocientos novecientos").split()
_PT_ONES = ("zero um dois três quatro cinco seis sete oito nove dez onze doze treze catorze "
            "quinze dezesseis dezessete dezoito dezenove").split()
_PT_TENS = "_ _ vinte trinta quarenta cinquenta sessenta setenta oitenta noventa".split()
_PT_HUNDREDS = ("_ cento duzentos trezentos quatrocentos quinhentos seiscentos setecentos "
                "oitocentos novecentos").split()


def _check(n: int, lang: str) -> None:
    if lang not in LANGUAGES:
        raise ParameterError(f"numbers are read in {', '.join(LANGUAGES)}, not {lang!r}")
    if not -LIMIT < n < LIMIT:
        raise ParameterError(f"{n} is too large to read as words (under a trillion)")


def number_words(n: int, lang: str = "en") -> str:
    """``n`` as a cardinal in words: 1999 -> "one thousand nine hundred ninety-nine",
    "mil novecientos noventa y nueve", "mil novecentos e noventa e nove"."""
    _check(n, lang)
    minus = {"en": "minus", "es": "menos", "pt": "menos"}[lang]
    if n < 0:
        return f"{minus} {number_words(-n, lang)}"
    return {"en": _en, "es": _es, "pt": _pt}[lang](n)


def _en(n: int) -> str:
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        return _EN_TENS[n // 10] + (f"-{_EN_ONES[n % 10]}" if n % 10 else "")
    if n < 1000:
        rest = n % 100
        return f"{_EN_ONES[n // 100]} hundred" + (f" {_en(rest)}" if rest else "")
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if n >= size:
            rest = n % size
            return f"{_en(n // size)} {name}" + (f" {_en(rest)}" if rest else "")
    raise AssertionError(n)


def _es(n: int) -> str:
    if n < 30:
        return _ES_ONES[n]
    if n < 100:
        return _ES_TENS[n // 10] + (f" y {_ES_ONES[n % 10]}" if n % 10 else "")
    if n == 100:
        return "cien"
    if n < 1000:
        rest = n % 100
        return _ES_HUNDREDS[n // 100] + (f" {_es(rest)}" if rest else "")
    if n < 10**6:
        high, rest = divmod(n, 1000)
        head = "mil" if high == 1 else f"{_es_apocope(high)} mil"
        return head + (f" {_es(rest)}" if rest else "")
    for size, one, many in ((10**9, "mil millones", "mil millones"),
                            (10**6, "un millón", "millones")):
        if n >= size:
            high, rest = divmod(n, size)
            head = one if high == 1 else f"{_es_apocope(high)} {many}"
            return head + (f" {_es(rest)}" if rest else "")
    raise AssertionError(n)


def _es_apocope(n: int) -> str:
    """Before "mil" and "millones", "uno" becomes "un" (veintiún mil, treinta y un mil)."""
    words = _es(n)
    if words.endswith("veintiuno"):
        return words[: -len("veintiuno")] + "veintiún"
    if words.endswith("uno"):
        return words[:-1]
    return words


def _pt(n: int) -> str:
    if n < 20:
        return _PT_ONES[n]
    if n < 100:
        return _PT_TENS[n // 10] + (f" e {_PT_ONES[n % 10]}" if n % 10 else "")
    if n == 100:
        return "cem"
    if n < 1000:
        rest = n % 100
        return _PT_HUNDREDS[n // 100] + (f" e {_pt(rest)}" if rest else "")
    for size, one, many in ((10**9, "um bilhão", "bilhões"), (10**6, "um milhão", "milhões"),
                            (1000, "mil", "mil")):
        if n >= size:
            high, rest = divmod(n, size)
            head = one if high == 1 else f"{_pt(high)} {many}"
            if not rest:
                return head
            # "e" before a last group under a hundred or a round hundred (mil e duzentos).
            joiner = " e " if rest < 100 or (rest % 100 == 0 and rest < 1000) else " "
            return head + joiner + _pt(rest)
    raise AssertionError(n)


_EN_ORD = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
           "nine": "ninth", "twelve": "twelfth"}
_ES_ORD = ("_ primero segundo tercero cuarto quinto sexto séptimo octavo noveno décimo "
           "undécimo duodécimo").split()
_PT_ORD = ("_ primeiro segundo terceiro quarto quinto sexto sétimo oitavo nono décimo").split()


def ordinal_words(n: int, lang: str = "en") -> str:
    """``n`` (1-100) as an ordinal: 21 -> "twenty-first", "vigésimo primero",
    "vigésimo primeiro" (masculine in Spanish and Portuguese)."""
    _check(n, lang)
    if not 1 <= n <= 100:
        raise ParameterError(f"ordinals are read from 1 to 100, not {n}")
    if lang == "en":
        words = _en(n)
        head, _, last = words.rpartition("-") if "-" in words else ("", "", words)
        if last in _EN_ORD:
            last = _EN_ORD[last]
        elif last.endswith("y"):
            last = last[:-1] + "ieth"
        else:
            last += "th"
        return f"{head}-{last}" if head else last
    ones = _ES_ORD if lang == "es" else _PT_ORD
    tens = {"es": "_ décimo vigésimo trigésimo cuadragésimo quincuagésimo sexagésimo "
                  "septuagésimo octogésimo nonagésimo".split(),
            "pt": "_ décimo vigésimo trigésimo quadragésimo quinquagésimo sexagésimo "
                  "septuagésimo octogésimo nonagésimo".split()}[lang]
    if n == 100:
        return "centésimo"
    if n < len(ones):
        return ones[n]
    return tens[n // 10] + (f" {ones[n % 10]}" if n % 10 else "")

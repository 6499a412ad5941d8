"""Sentence boundaries: feedsvc's hand-written splitter against the English Golden Rules,
beside the maintained libraries that do the same job, in the same run.

    python benchmarks/sentence_boundaries.py [--details] [--segments PATH] [--json]

The rules (``benchmarks/data/golden_rules_en.json``: Pragmatic Segmenter's 48 English
Golden Rules as pySBD publishes them, MIT) are hard cases: abbreviations, initialisms,
decimals, e-mail addresses and URLs, quotes, lists, ellipses. Each splitter gets a rule's
text; two scores:

- **exact**: the rule passes when the splitter's sentences, each stripped of whitespace
  (empty ones dropped), equal the expected list;
- **boundary** precision, recall and F1, micro-averaged over all rules: a boundary is the
  number of non-whitespace characters before a sentence's end, the text's own end excluded.

The same scores follow for ``NEWS`` below: feedsvc's own expectations for news copy
(from tests/test_segments.py and the rules in feedsvc/segments.py, plus a few patterns a
wire story has: "ranked No. 1. The", "three parts: 1) cutting taxes, 2) …"). The Golden
Rules favour pySBD, which was written to pass them; ``NEWS`` favours feedsvc. Read both.

Scored: ``feedsvc.segments.split_sentences`` and, when importable, pysbd
(``Segmenter(language="en", clean=False)``), sentencex (``segment("en", text)``) and
nupunkt (``sent_tokenize``); a library that is not installed is skipped with a note, so
the script runs (and exits 0) without them. ``--segments PATH`` adds the
``split_sentences`` of another copy of ``segments.py`` (a proposed rule change) as
"candidate". ``--details`` prints what each splitter returned for every case it fails.
Times (ms) are for all cases of a set: the fastest of five passes after a warm-up.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from feedsvc.segments import split_sentences

DATA = Path(__file__).parent / "data" / "golden_rules_en.json"

Splitter = Callable[[str], list[str]]

# (text, expected sentences): news copy as feedsvc expects it to be split.
NEWS: list[tuple[str, list[str]]] = [
    ("Dr. Fang met Mr. Li and Ms. Wu on Feb. 19. They talked.",
     ["Dr. Fang met Mr. Li and Ms. Wu on Feb. 19.", "They talked."]),
    ("Prof. Chen of St. Mary's said approx. 300 people came, e.g. students. Sept. rains "
     "were heavy.",
     ["Prof. Chen of St. Mary's said approx. 300 people came, e.g. students.",
      "Sept. rains were heavy."]),
    ("U.S. officials said the U.K. and U.N. agreed. The talks ended at 5 p.m. Beijing time.",
     ["U.S. officials said the U.K. and U.N. agreed.",
      "The talks ended at 5 p.m. Beijing time."]),
    ("Exports to the U.S. The rise was small. He joined Acme Inc. The firm agreed. The U.S. "
     "President met Sen. Wang at 9 a.m. Monday.",
     ["Exports to the U.S.", "The rise was small.", "He joined Acme Inc.", "The firm agreed.",
      "The U.S. President met Sen. Wang at 9 a.m. Monday."]),
    ("The No. 2 park beat Tianhe vs. Nansha. Sammy Davis Jr. sang. Guangzhou Metro Co. Ltd. "
     "Chairman Li spoke.",
     ["The No. 2 park beat Tianhe vs. Nansha.", "Sammy Davis Jr. sang.",
      "Guangzhou Metro Co. Ltd. Chairman Li spoke."]),
    ("The zone covers 56.39 sq km. GDP hit 3.2 billion yuan, up 12.5% year on year.",
     ["The zone covers 56.39 sq km.", "GDP hit 3.2 billion yuan, up 12.5% year on year."]),
    ("Visit https://gdd.example.org/en/news?id=7&lang=en. Or write to press@gdd.example.org "
     "(www.gdd.example.org).",
     ["Visit https://gdd.example.org/en/news?id=7&lang=en.",
      "Or write to press@gdd.example.org (www.gdd.example.org)."]),
    ('"Done," she said. He said: "It works." Then he left.',
     ['"Done," she said.', 'He said: "It works."', "Then he left."]),
    ("“It works.” Then he left. ‘Yes,’ she said.",
     ["“It works.”", "Then he left.", "‘Yes,’ she said."]),
    ('Why now? "Because it\'s time!" the mayor said. What a day! Really?',
     ["Why now?", '"Because it\'s time!" the mayor said.', "What a day!", "Really?"]),
    ("Wait... Then it rained… and stopped. The end.",
     ["Wait...", "Then it rained… and stopped.", "The end."]),
    ("GUANGZHOU, Feb. 19 (Nanfang Plus) -- The district unveiled a plan on Wednesday. It "
     "covers Huangpu.",
     ["GUANGZHOU, Feb. 19 (Nanfang Plus) -- The district unveiled a plan on Wednesday.",
      "It covers Huangpu."]),
    ("黄埔区今年增长迅速。企业数量超过1200家！你知道吗？",
     ["黄埔区今年增长迅速。", "企业数量超过1200家！", "你知道吗？"]),
    ("你好。 Hello there. 再见！", ["你好。", "Hello there.", "再见！"]),
    ("Sanctions on the U.S. The move hurt.", ["Sanctions on the U.S.", "The move hurt."]),
    ("It opens at 9 a.m. The queue is long.", ["It opens at 9 a.m.", "The queue is long."]),
    ("John F. Kennedy spoke. Plan B. It failed.",
     ["John F. Kennedy spoke.", "Plan B.", "It failed."]),
    ("See Fig. 3 and No. 5, i.e. Huangpu.", ["See Fig. 3 and No. 5, i.e. Huangpu."]),
    ('"Is it?" he asked. "Yes."', ['"Is it?" he asked.', '"Yes."']),
    ("Done (at last.) Next one.", ["Done (at last.)", "Next one."]),
    ("Mr.\xa0Li paid 10\xa0yuan. Then\xa0he left.",
     ["Mr.\xa0Li paid 10\xa0yuan.", "Then\xa0he left."]),
    ("He was ranked No. 1. The team won.", ["He was ranked No. 1.", "The team won."]),
    ("The meeting on Feb. 1. The plan was approved.",
     ["The meeting on Feb. 1.", "The plan was approved."]),
    ("The zone covers 56 sq. m. The park opens in May.",
     ["The zone covers 56 sq. m.", "The park opens in May."]),
    ("Architects Li and I. M. Pei designed it.", ["Architects Li and I. M. Pei designed it."]),
    ("The plan has three parts: 1) cutting taxes, 2) building roads and 3) hiring.",
     ["The plan has three parts: 1) cutting taxes, 2) building roads and 3) hiring."]),
]  # fmt: skip


def load_rules(path: Path = DATA) -> list[dict[str, Any]]:
    """The rules: dicts with id, name, category, text and the expected sentences."""
    return json.loads(path.read_text(encoding="utf-8"))["rules"]


def news_cases() -> list[dict[str, Any]]:
    """``NEWS`` in the rules' shape."""
    return [
        {"id": number, "name": text, "category": "news", "text": text, "sentences": expected}
        for number, (text, expected) in enumerate(NEWS, 1)
    ]


def _pysbd() -> Splitter:
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False)
    return segmenter.segment


def _sentencex() -> Splitter:
    import sentencex

    return lambda text: list(sentencex.segment("en", text))


def _nupunkt() -> Splitter:
    import nupunkt

    return nupunkt.sent_tokenize


LIBRARIES: dict[str, Callable[[], Splitter]] = {
    "pysbd": _pysbd,
    "sentencex": _sentencex,
    "nupunkt": _nupunkt,
}


def _from_file(path: Path) -> Splitter:
    """``split_sentences`` of a copy of segments.py, imported under a name of its own."""
    spec = importlib.util.spec_from_file_location("candidate_segments", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.split_sentences


def sentences(splitter: Splitter, text: str) -> list[str]:
    """What the splitter returns, each sentence stripped, empty ones dropped."""
    return [s.strip() for s in splitter(text) if s.strip()]


def boundaries(parts: list[str]) -> set[int]:
    """Sentence ends as counts of non-whitespace characters, the last one excluded."""
    ends, count = set(), 0
    for part in parts[:-1]:
        count += sum(not char.isspace() for char in part)
        ends.add(count)
    return ends


def _milliseconds(splitter: Splitter, texts: list[str], rounds: int = 5) -> float:
    """The fastest of a few passes over all texts: other load only ever adds time. Each
    pass adds its own trailing spaces, so a splitter that caches results (nupunkt) works."""
    splitter("Warm up. Lazy loading is not timed.")
    best = float("inf")
    for number in range(1, rounds + 1):
        padded = [text + " " * number for text in texts]
        started = time.perf_counter()
        for text in padded:
            splitter(text)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def score(splitter: Splitter, rules: list[dict[str, Any]]) -> dict[str, Any]:
    """Exact-match passes, boundary precision/recall/F1, time and each rule's output."""
    passed, outputs = [], {}
    true_pos = false_pos = false_neg = 0
    for rule in rules:
        got = sentences(splitter, rule["text"])
        want = [s.strip() for s in rule["sentences"]]
        outputs[rule["id"]] = got
        if got == want:
            passed.append(rule["id"])
        predicted, gold = boundaries(got), boundaries(want)
        true_pos += len(predicted & gold)
        false_pos += len(predicted - gold)
        false_neg += len(gold - predicted)
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "passed": passed,
        "exact": len(passed) / len(rules),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "ms": _milliseconds(splitter, [rule["text"] for rule in rules]),
        "outputs": outputs,
    }


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _ids(ids: list[int]) -> str:
    """[4, 5, 6, 41, 42] -> "4-6,41-42"."""
    runs: list[list[int]] = []
    for number in ids:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def summary(cases: list[dict[str, Any]], results: dict[str, dict[str, Any]]) -> str:
    """One line per splitter: exact matches, boundary precision/recall/F1, time."""
    rows = [["splitter", "exact", "exact %", "precision", "recall", "F1", "ms"]]
    for name, result in results.items():
        rows.append([
            name,
            f"{len(result['passed'])}/{len(cases)}",
            f"{result['exact']:.1%}",
            f"{result['precision']:.3f}",
            f"{result['recall']:.3f}",
            f"{result['f1']:.3f}",
            f"{result['ms']:.1f}",
        ])  # fmt: skip
    return _table(rows)


def per_rule(rules: list[dict[str, Any]], results: dict[str, dict[str, Any]]) -> str:
    """Passes per category, then pass/fail per rule."""
    names = list(results)
    categories: dict[str, list[int]] = {}
    for rule in rules:
        categories.setdefault(rule["category"], []).append(rule["id"])
    by_category = [["category", "rules", *names]]
    for category, ids in categories.items():
        passes = [len(set(ids) & set(results[name]["passed"])) for name in names]
        by_category.append([category, _ids(ids), *(f"{n}/{len(ids)}" for n in passes)])
    by_rule = [["id", "category", "rule", *names]]
    for rule in rules:
        marks = ["pass" if rule["id"] in results[name]["passed"] else "FAIL" for name in names]
        by_rule.append([str(rule["id"]), rule["category"], rule["name"][:52], *marks])
    return f"{_table(by_category)}\n\n{_table(by_rule)}"


def failures(cases: list[dict[str, Any]], results: dict[str, dict[str, Any]]) -> str:
    """What each splitter returned for every case it failed."""
    out = []
    for name, result in results.items():
        failed = [case for case in cases if case["id"] not in result["passed"]]
        out.append(f"== {name}: {len(failed)} failed")
        for case in failed:
            out += [
                f"#{case['id']} {case['name']}",
                f"  text:     {case['text']!r}",
                f"  expected: {case['sentences']!r}",
                f"  got:      {result['outputs'][case['id']]!r}",
            ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="print every failure")
    parser.add_argument("--segments", type=Path, help="also score this copy of segments.py")
    parser.add_argument("--json", action="store_true", help="print a JSON summary as well")
    args = parser.parse_args()

    splitters: dict[str, Splitter] = {"feedsvc": split_sentences}
    if args.segments:
        splitters["candidate"] = _from_file(args.segments)
    for name, factory in LIBRARIES.items():
        try:
            splitters[name] = factory()
        except ImportError as exc:
            print(f"{name}: skipped, not importable ({exc})", file=sys.stderr)

    rules, news = load_rules(), news_cases()
    golden = {name: score(splitter, rules) for name, splitter in splitters.items()}
    ours = {name: score(splitter, news) for name, splitter in splitters.items()}
    print(f"{len(rules)} English Golden Rules ({DATA.relative_to(DATA.parents[2])})\n")
    print(summary(rules, golden), end="\n\n")
    print(per_rule(rules, golden), end="\n\n")
    print(f"{len(news)} news cases (feedsvc's own expectations, NEWS in this script)\n")
    print(summary(news, ours))
    if args.details:
        print(f"\nGolden Rules\n{failures(rules, golden)}\n\nNews\n{failures(news, ours)}")
    if args.json:
        print(json.dumps({
            set_name: {
                name: {key: value for key, value in result.items() if key != "outputs"}
                for name, result in results.items()
            }
            for set_name, results in (("golden_rules_en", golden), ("news", ours))
        }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

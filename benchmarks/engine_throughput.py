"""Engine throughput: sentences/s of the Argos engine on a model of Argos size (random
weights) against one call per sentence, in the same run.

    python benchmarks/engine_throughput.py [--rounds 3] [--beam 4] [--sentences 0]
        [--compute-types int8] [--threads 1:2] [--batch-tokens 256,1024]
    python benchmarks/engine_throughput.py --sweep    # the options table (by hand, >1 h)
    python benchmarks/engine_throughput.py --smoke    # CI: a small model, 40 sentences

The model is tests/argos_fixture.ARGOS_SIZE (Transformer-base 6+6, d_model 512, 8 heads,
FFN 2048, 50,000 shared pieces, int8; translations end about the source length), built
once into a temp dir, installed like any package and loaded through Packages and Engines
as the app does. The sentences are every segment source of the demo content
(feedsvc/demo/content.json, cut as translation.cut cuts an article): about 180 titles,
summaries and sentences in 14 articles.

Four ways through the same sentences, at the same CTranslate2 options (CPU, compute
type, ``intra:inter`` threads, token budget), measured in alternation, in reverse order
every other round:

  one_per_call  ArgosTranslator.translate([s]) for each sentence: the plainest use
  engine        ArgosTranslator.translate(sentences): one call; the engine batches
  per_article   ArgosTranslator.translate(an article's sentences) for each article: what
                a translation job sends (for reference)
  plain_batch   ctranslate2.Translator.translate_batch over the same sentences, tokenized
                without their placeholders, batched by the same token budget (for
                reference: CTranslate2 without the engine around it)

Prints, per configuration, the median sentences/s of each and their ratios to
one_per_call (goal: engine ≥ 5× at beam 4 on 2 cores), and CPU ms per sentence (this
process, all threads: moves less with other load on the machine, but counts the thread
pool's spinning). The defaults are the fastest options measured on a 2-core machine (see
--sweep): int8, one thread per batch and two batches at once (``1:2``), with 1,024-token
batches (best for one call of everything) and 256-token ones (best for an article a call:
it splits into two batches, one per core). The engine gets inter_threads only if
EngineOptions has that field (until then it runs ``1:1`` where plain_batch runs ``1:2``).
Exits non-zero when a full run (not --smoke, not --sweep) reaches the goal with none of
its configurations.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import ctranslate2
import sentencepiece as spm

from feedsvc.demo import demo_content
from feedsvc.engine.argos import ArgosTranslator, EngineOptions, Engines
from feedsvc.engine.packages import Packages
from feedsvc.translation import cut

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.argos_fixture: the tests' genuine package builder
from tests.argos_fixture import (  # noqa: E402
    ARGOS_SIZE,
    CORPUS,
    ModelSize,
    build_argos_package,
    install_argos_package,
)

GOAL = 5.0
PLACEHOLDER = re.compile(r"(?<!\{)\{/?\d+\}(?!\})")
# The smoke run's model: built like ARGOS_SIZE (int8, padded BPE pieces, translations about
# the source length), small enough to build and run in seconds.
SMOKE_SIZE = dataclasses.replace(ARGOS_SIZE, layers=2, d_model=256, heads=4, ffn=1024, vocab=8000)
SWEEP = {
    "compute_types": "int8,float32",
    "threads": "2:1,1:2",
    "batch_tokens": "256,512,1024,2048,4096,8192",
}
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Config:
    compute_type: str
    intra: int
    inter: int
    batch_tokens: int

    @property
    def label(self) -> str:
        return f"{self.compute_type} {self.intra}:{self.inter} {self.batch_tokens}"


def demo_articles() -> list[list[str]]:
    """Every segment source of each demo article, in order (placeholders included)."""
    return [
        [segment.source for segment in cut(a["title"], a.get("summary"), a["body_html"]).segments]
        for a in demo_content()["articles"]
    ]


def plain(source: str) -> str:
    """The sentence without its placeholders, as the model should see it."""
    return " ".join(PLACEHOLDER.sub(" ", source).split())


def spread(items: Sequence[T], count: int) -> list[T]:
    """``count`` items taken evenly across ``items`` (keeps the mix of lengths)."""
    if count >= len(items):
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


def timed(run: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def engine_options(config: Config, beam: int) -> EngineOptions:
    """EngineOptions for ``config``; inter_threads only if the engine has that option."""
    options = EngineOptions(
        device="cpu",
        compute_type=config.compute_type,
        threads=config.intra,
        beam_size=beam,
        max_batch_tokens=config.batch_tokens,
    )
    if "inter_threads" in {field.name for field in dataclasses.fields(EngineOptions)}:
        options = dataclasses.replace(options, **{"inter_threads": config.inter})
    return options


class Bench:
    """One installed package and the sentences; translators made per configuration."""

    def __init__(self, packages: Packages, articles: list[list[str]], beam: int) -> None:
        self.packages = packages
        self.articles = articles
        self.sentences = [sentence for article in articles for sentence in article]
        self.beam = beam
        (package,) = packages.installed()
        self.model_dir = package.path / "model"
        processor = spm.SentencePieceProcessor(model_file=str(package.path / "sentencepiece.model"))
        self.tokens = [processor.encode(plain(s), out_type=str) for s in self.sentences]

    def translator(self, config: Config) -> ArgosTranslator:
        translator = Engines(self.packages, engine_options(config, self.beam)).translator(
            "en", "zh-Hans"
        )
        translator.translate(self.sentences[:2])  # load it outside the timing
        return translator

    def plain_translator(self, config: Config) -> ctranslate2.Translator:
        model = ctranslate2.Translator(
            str(self.model_dir),
            device="cpu",
            compute_type=config.compute_type,
            intra_threads=config.intra,
            inter_threads=config.inter,
        )
        model.translate_batch(self.tokens[:2], beam_size=self.beam)  # outside the timing
        return model

    def one_per_call(self, translator: ArgosTranslator) -> tuple[float, float]:
        def run() -> None:
            for sentence in self.sentences:
                translator.translate([sentence])

        return timed(run)

    def engine(self, translator: ArgosTranslator) -> tuple[float, float]:
        def run() -> None:
            assert len(translator.translate(self.sentences)) == len(self.sentences)

        return timed(run)

    def per_article(self, translator: ArgosTranslator) -> tuple[float, float]:
        def run() -> None:
            for article in self.articles:
                translator.translate(article)

        return timed(run)

    def plain_batch(
        self, model: ctranslate2.Translator, config: Config, lengths: list[int]
    ) -> tuple[float, float]:
        def run() -> None:
            results = model.translate_batch(
                self.tokens,
                beam_size=self.beam,
                max_batch_size=config.batch_tokens,
                batch_type="tokens",
                max_decoding_length=256,
                return_scores=True,
            )
            lengths[:] = [len(result.hypotheses[0]) for result in results]

        return timed(run)


def measure_group(bench: Bench, configs: list[Config], rounds: int) -> list[dict[str, Any]]:
    """Configurations that differ only in token budget share one baseline (a single
    sentence never fills a budget): per round, the baseline, then every budget's engine,
    per-article calls and plain batch, in reverse order every other round. One budget's
    models are in memory at a time (a float32 model of Argos size takes 0.5 GB)."""
    baseline = bench.translator(configs[0])
    loaded: dict[Config, tuple[ArgosTranslator, ctranslate2.Translator]] = {}

    def models(config: Config) -> tuple[ArgosTranslator, ctranslate2.Translator]:
        if config not in loaded:
            loaded.clear()
            loaded[config] = (bench.translator(config), bench.plain_translator(config))
        return loaded[config]

    times: dict[tuple[str, Config | None], list[tuple[float, float]]] = {}
    lengths: list[int] = []
    for round_number in range(rounds):
        steps: list[tuple[str, Config | None, Callable[[], tuple[float, float]]]] = [
            ("one_per_call", None, lambda: bench.one_per_call(baseline))
        ]
        for config in configs:
            steps += [
                ("engine", config, lambda c=config: bench.engine(models(c)[0])),
                ("per_article", config, lambda c=config: bench.per_article(models(c)[0])),
                (
                    "plain_batch",
                    config,
                    lambda c=config: bench.plain_batch(models(c)[1], c, lengths),
                ),
            ]
        if round_number % 2:
            steps.reverse()
        for name, config, step in steps:
            times.setdefault((name, config), []).append(step())
            wall, cpu = times[(name, config)][-1]
            print(
                f"  round {round_number + 1} {name:12} "
                f"{config.label if config else configs[0].label.rsplit(' ', 1)[0]:20} "
                f"{len(bench.sentences) / wall:7.2f} sentences/s "
                f"{1000 * cpu / len(bench.sentences):6.0f} CPU ms/sentence",
                file=sys.stderr,
                flush=True,
            )
    count = len(bench.sentences)

    def rate(name: str, config: Config | None) -> float:
        return count / statistics.median(wall for wall, _ in times[(name, config)])

    def cpu_ms(name: str, config: Config | None) -> float:
        return 1000 * statistics.median(cpu for _, cpu in times[(name, config)]) / count

    rows = []
    base_rate, base_cpu = rate("one_per_call", None), cpu_ms("one_per_call", None)
    ways = ("engine", "per_article", "plain_batch")
    for config in configs:
        rates = {way: rate(way, config) for way in ways}
        cpus = {way: cpu_ms(way, config) for way in ways}
        rows.append(
            {
                "config": config.label,
                "engine_inter_threads": getattr(
                    engine_options(config, bench.beam), "inter_threads", 1
                ),
                "sentences_per_s": {"one_per_call": round(base_rate, 2)}
                | {way: round(value, 2) for way, value in rates.items()},
                "cpu_ms_per_sentence": {"one_per_call": round(base_cpu)}
                | {way: round(value) for way, value in cpus.items()},
                "over_one_per_call": {
                    way: round(value / base_rate, 2) for way, value in rates.items()
                },
                "cpu_over_one_per_call": {
                    way: round(base_cpu / value, 2) for way, value in cpus.items()
                },
                "mean_output_tokens": round(statistics.mean(lengths), 1),
            }
        )
    return rows


def parse_configs(args: argparse.Namespace) -> list[list[Config]]:
    """Configurations grouped by (compute type, threads): one baseline per group."""
    groups = []
    for compute_type in args.compute_types.split(","):
        for pair in args.threads.split(","):
            intra, inter = (int(n) for n in pair.split(":"))
            groups.append(
                [
                    Config(compute_type, intra, inter, int(tokens))
                    for tokens in args.batch_tokens.split(",")
                ]
            )
    return groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--sentences", type=int, default=0, help="0: all of them")
    parser.add_argument("--compute-types", default="int8", help="comma-separated")
    parser.add_argument("--threads", default="1:2", help="comma-separated intra:inter pairs")
    parser.add_argument("--batch-tokens", default="256,1024", help="comma-separated budgets")
    parser.add_argument("--sweep", action="store_true", help="the options table")
    parser.add_argument("--smoke", action="store_true", help="a small model, 40 sentences")
    args = parser.parse_args()
    size: ModelSize = ARGOS_SIZE
    if args.sweep:
        for key, value in SWEEP.items():
            setattr(args, key, value)
    if args.smoke:
        size, args.rounds, args.sentences = SMOKE_SIZE, 1, args.sentences or 40
    articles = demo_articles()
    sources = [(n, sentence) for n, article in enumerate(articles) for sentence in article]
    chosen = spread(sources, args.sentences) if args.sentences else sources
    chosen_articles = [
        [sentence for n, sentence in chosen if n == article]
        for article in sorted({n for n, _ in chosen})
    ]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="engine-throughput-") as tmp:
        archive = build_argos_package(
            Path(tmp) / "build",
            "en",
            "zh",
            "1.0",
            size=size,
            corpus=[plain(sentence) for _, sentence in sources] + list(CORPUS),
        )
        install_argos_package(archive, Path(tmp) / "packages")
        archive.unlink()
        bench = Bench(Packages(Path(tmp) / "packages"), chosen_articles, args.beam)
        report: dict[str, Any] = {
            "model": dataclasses.asdict(size),
            "build_s": round(time.perf_counter() - started, 1),
            "beam": args.beam,
            "sentences": len(bench.sentences),
            "articles": len(bench.articles),
            "mean_source_tokens": round(statistics.mean(len(t) for t in bench.tokens), 1),
            "results": [],
        }
        for group in parse_configs(args):
            report["results"] += measure_group(bench, group, args.rounds)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))
    reached = any(row["over_one_per_call"]["engine"] >= GOAL for row in report["results"])
    return 0 if reached or args.smoke or args.sweep else 1


if __name__ == "__main__":
    sys.exit(main())

"""A tiny but genuine Argos Translate package, built on the fly for tests.

The package has the layout argostranslate expects (``metadata.json``, ``README.md``,
``sentencepiece.model`` and a CTranslate2 ``model/`` folder, zipped under a single top-level
folder), a SentencePiece tokenizer trained on a few English and Chinese news sentences, and
a randomly initialised Transformer: it loads and translates, into gibberish of about
OUTPUT_LENGTH tokens, in milliseconds.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import io
import json
import os
import shutil
import sys
import tempfile
import types
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np
import sentencepiece as spm
from ctranslate2.specs import model_spec

D_MODEL = 64
NUM_HEADS = 4
FFN_SIZE = 128
VOCAB_SIZE = 256  # a target: hard_vocab_limit=False lets SentencePiece stop short of it
OUTPUT_LENGTH = 12  # translations are about this many tokens long
DECODER_POSITIONS = 512  # rows of the decoder position table
ARGOS_VERSION = "1.11.0"

LANGUAGE_NAMES = {
    "ar": "Arabic",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "ja": "Japanese",
    "pt": "Portuguese",
    "ru": "Russian",
    "zh": "Chinese",
}

CORPUS = (
    "The city council approved the new budget on Tuesday.",
    "Heavy rain caused flooding in several northern provinces.",
    "The central bank kept interest rates unchanged this month.",
    "Scientists announced a breakthrough in battery technology.",
    "The national team won the championship after extra time.",
    "Officials said the bridge will reopen next week.",
    "Oil prices rose sharply after the supply cut was announced.",
    "The museum will open a new exhibition on ancient China.",
    "Thousands of people gathered in the square for the festival.",
    "The company reported higher profits in the third quarter.",
    "Schools in the region will close early because of the heat.",
    "The president met foreign leaders at the summit in Geneva.",
    "Police are investigating the cause of the fire.",
    "The new railway line will link the two largest cities.",
    "市议会周二批准了新的预算。",
    "暴雨导致北方几个省份发生洪水。",
    "中央银行本月维持利率不变。",
    "科学家宣布电池技术取得突破。",
    "国家队在加时赛后赢得了冠军。",
    "官员表示大桥将于下周重新开放。",
    "减产消息宣布后油价大幅上涨。",
    "博物馆将举办一个关于古代中国的新展览。",
    "数千人聚集在广场上参加节日活动。",
    "该公司第三季度利润增长。",
    "由于天气炎热，该地区的学校将提前放学。",
    "总统在日内瓦峰会上会见了外国领导人。",
    "警方正在调查火灾原因。",
    "新铁路线将连接两个最大的城市。",
)


class _SpecConverter(ctranslate2.converters.Converter):
    """Hands a ready-made model spec to CTranslate2's converter machinery."""

    def __init__(self, spec: ctranslate2.specs.TransformerSpec) -> None:
        self._spec = spec

    def _load(self) -> ctranslate2.specs.TransformerSpec:
        return self._spec


def _train_sentencepiece() -> bytes:
    """Train a shared English/Chinese SentencePiece model; return the serialized proto."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS),
        model_writer=model,
        model_type="unigram",
        vocab_size=VOCAB_SIZE,
        character_coverage=1.0,
        hard_vocab_limit=False,
        num_threads=1,
        minloglevel=2,
    )
    return model.getvalue()


def _variable_shape(scope: str, vocab_size: int) -> tuple[int, ...]:
    """Shape of the Transformer variable at ``scope`` (e.g. ``decoder/layer_0/ffn/...``)."""
    parts = scope.split("/")
    if parts[-1] in ("gamma", "beta"):
        return (D_MODEL,)
    if parts[-1] != "weight":
        raise ValueError(f"no shape rule for {scope}")
    module, linear = parts[-3], parts[-2]
    if linear.startswith("embeddings") or linear == "projection":
        return (vocab_size, D_MODEL)
    if module == "ffn":
        return {"linear_0": (FFN_SIZE, D_MODEL), "linear_1": (D_MODEL, FFN_SIZE)}[linear]
    if module == "self_attention":  # fused query/key/value, then output
        return {"linear_0": (3 * D_MODEL, D_MODEL), "linear_1": (D_MODEL, D_MODEL)}[linear]
    if module == "attention":  # encoder-decoder attention: query, fused key/value, output
        rows = {"linear_0": D_MODEL, "linear_1": 2 * D_MODEL, "linear_2": D_MODEL}[linear]
        return (rows, D_MODEL)
    raise ValueError(f"no shape rule for {scope}")


def _random_transformer(
    processor: spm.SentencePieceProcessor, layers: int, seed: int
) -> ctranslate2.specs.TransformerSpec:
    """A pre-norm Transformer spec with every required variable set to random weights.

    Weights are N(0, 1/fan_in) so that the source reaches the output. Translations end by
    themselves (argostranslate decodes up to 256 tokens): dimension 0 of the decoder position
    table is a clock, (step - OUTPUT_LENGTH), and the </s> row of the output projection
    reads only that dimension, so </s> wins a few steps either side of OUTPUT_LENGTH.
    """
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    spec = ctranslate2.specs.TransformerSpec.from_config((layers, layers), NUM_HEADS)
    rng = np.random.default_rng(seed)

    def fill(layer: Any, scope: str, value: Any) -> None:
        if value is not None:
            return
        shape = _variable_shape(scope, len(vocabulary))
        name = scope.split("/")[-1]
        if name == "gamma":
            array = np.ones(shape, dtype=np.float32)
        elif name == "beta":
            array = np.zeros(shape, dtype=np.float32)
        else:
            array = rng.normal(0.0, shape[-1] ** -0.5, shape).astype(np.float32)
        setattr(layer, name, array)

    model_spec.visit_spec(spec, fill)

    step = np.arange(DECODER_POSITIONS, dtype=np.float32)[:, None]
    rates = np.exp(-np.log(10000.0) * np.arange(D_MODEL // 2) / (D_MODEL // 2 - 1))
    positions = np.concatenate([np.sin(step * rates), np.cos(step * rates)], axis=1)
    positions[:, 0] = step[:, 0] - OUTPUT_LENGTH
    spec.decoder.position_encodings.encodings = positions.astype(np.float32)
    projection = spec.decoder.projection
    projection.weight[processor.eos_id()] = 0.0
    projection.weight[processor.eos_id(), 0] = 4.0
    bias = np.zeros(len(vocabulary), dtype=np.float32)
    bias[[processor.unk_id(), processor.bos_id()]] = -100.0  # never generated
    projection.bias = bias

    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    return spec


def build_argos_package(
    dest: Path,
    from_code: str = "en",
    to_code: str = "zh",
    version: str = "1.0",
    layers: int = 2,
    seed: int = 0,
) -> Path:
    """Build <dest>/translate-{from}_{to}-{version}.argosmodel and return its path."""
    name = f"translate-{from_code}_{to_code}-{version}"
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / f"{name}.argosmodel"
    with tempfile.TemporaryDirectory(prefix="argos-build-") as tmp:
        root = Path(tmp) / name
        root.mkdir()
        sp_model = _train_sentencepiece()
        (root / "sentencepiece.model").write_bytes(sp_model)
        processor = spm.SentencePieceProcessor(model_proto=sp_model)
        spec = _random_transformer(processor, layers, seed)
        _SpecConverter(spec).convert(output_dir=str(root / "model"), force=True)
        from_name = LANGUAGE_NAMES.get(from_code, from_code)
        to_name = LANGUAGE_NAMES.get(to_code, to_code)
        metadata = {
            "package_version": version,
            "argos_version": ARGOS_VERSION,
            "from_code": from_code,
            "from_name": from_name,
            "to_code": to_code,
            "to_name": to_name,
            "type": "translate",
            "links": [],
        }
        (root / "metadata.json").write_text(json.dumps(metadata, indent=4) + "\n")
        (root / "README.md").write_text(
            f"# {from_name} -> {to_name} (test fixture)\n\n"
            "Random weights: the output is gibberish. Built by tests/argos_fixture.py.\n",
            encoding="utf-8",
        )
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipf:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo(path.relative_to(root.parent).as_posix())
                    info.compress_type = zipfile.ZIP_DEFLATED
                    zipf.writestr(info, path.read_bytes())  # fixed timestamp: reproducible
    return archive


@contextmanager
def _restored_environ() -> Iterator[None]:
    """Undo any change made to os.environ inside the block."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        for key, value in saved.items():
            if os.environ.get(key) != value:
                os.environ[key] = value


def _argos_settings(packages_dir: Path) -> types.ModuleType:
    """argostranslate.settings; a first import creates its folders in a private temp dir.

    At import it makes data, config and cache folders under $HOME (~/.local/share,
    ~/.config, ~/.local/cache), reads ~/.config/argos-translate/settings.json and sets
    KMP_DUPLICATE_LIB_OK in os.environ; all three are kept away from the caller.
    """
    if "argostranslate.settings" in sys.modules:
        return sys.modules["argostranslate.settings"]
    state = Path(tempfile.mkdtemp(prefix="argos-state-"))
    atexit.register(shutil.rmtree, state, ignore_errors=True)
    with _restored_environ():
        os.environ["XDG_DATA_HOME"] = str(state / "data")
        os.environ["XDG_CONFIG_HOME"] = str(state / "config")
        os.environ["XDG_CACHE_HOME"] = str(state / "cache")
        os.environ["ARGOS_PACKAGES_DIR"] = str(packages_dir)
        return importlib.import_module("argostranslate.settings")


@contextmanager
def _translate_module_stub() -> Iterator[None]:
    """Stand in for argostranslate.translate, which needs stanza.

    install_from_path imports it after extracting, only to clear a language cache.
    """
    name = "argostranslate.translate"
    if name in sys.modules:
        yield
        return
    stub = types.ModuleType(name, "Stand-in from tests/argos_fixture.py.")
    stub.get_installed_languages = functools.cache(list)
    sys.modules[name] = stub
    try:
        yield
    finally:
        if sys.modules.get(name) is stub:
            del sys.modules[name]


def install_argos_package(argosmodel: Path, packages_dir: Path) -> None:
    """Install through argostranslate's own package code into packages_dir.

    Points argostranslate's package directory (settings.package_data_dir, where packages are
    installed, and settings.package_dirs, where get_installed_packages() looks) at
    packages_dir, and leaves it there.
    """
    packages_dir.mkdir(parents=True, exist_ok=True)
    settings = _argos_settings(packages_dir)
    settings.package_data_dir = packages_dir
    settings.package_dirs = [packages_dir]
    from argostranslate import package

    with _translate_module_stub():
        package.install_from_path(argosmodel)

"""A tiny but genuine Argos Translate package, built on the fly for tests.

The package has the layout argostranslate expects (``metadata.json``, ``README.md``,
``sentencepiece.model`` and a CTranslate2 ``model/`` folder, zipped under a single top-level
folder), a SentencePiece tokenizer trained on a few English and Chinese news sentences, and
a randomly initialised Transformer: it loads and translates, into gibberish of about
OUTPUT_LENGTH tokens, in milliseconds.

``build_argos_package(..., size=ARGOS_SIZE)`` builds a model with the dimensions of a real
Argos package instead (for benchmarks): same layout, same cost per token, still random.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import importlib
import io
import json
import os
import shutil
import struct
import sys
import tempfile
import types
import zipfile
from collections.abc import Iterator, Sequence
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


@dataclasses.dataclass(frozen=True)
class ModelSize:
    """Dimensions of the random model; the defaults are the tests' tiny one."""

    layers: int = 2  # encoder layers, and as many decoder layers
    d_model: int = D_MODEL
    heads: int = NUM_HEADS
    ffn: int = FFN_SIZE
    vocab: int = VOCAB_SIZE
    # SentencePiece training: model type and piece target (None: ``vocab``). The pieces it
    # stops short at are padded up to ``vocab`` with made-up ones if pad_vocabulary is set.
    sentencepiece_type: str = "unigram"
    trained_pieces: int | None = None
    pad_vocabulary: bool = False
    # Translations end after about this many tokens; None: after about as many tokens as
    # the source has (the decoder reads the source length off the encoder output).
    output_length: int | None = OUTPUT_LENGTH
    quantization: str | None = None  # CTranslate2 weight type, e.g. "int8"


TINY_SIZE = ModelSize()

# The shape of the Argos Translate packages argos-train and LibreTranslate's Locomotive make
# (argos-train config.yml and train.py, Locomotive train.py): OpenNMT-py Transformer-base,
# 6+6 layers, d_model 512, 8 heads, FFN 2048, one SentencePiece vocabulary of 50,000 pieces
# shared by source and target, converted with ``--quantization int8``. (Before August 2021
# argos-train used 32,000 pieces.) The tokenizer: 2,000 BPE pieces trained on the text to
# translate keep frequent words whole and split rarer ones, as a tokenizer trained on millions
# of sentences would: the benchmark's news sentences come out at about 25 pieces for 17 words
# (an assumption; a unigram model trained on so little text splits far more); made-up pieces
# fill the vocabulary up to 50,000.
ARGOS_SIZE = ModelSize(
    layers=6,
    d_model=512,
    heads=8,
    ffn=2048,
    vocab=50_000,
    sentencepiece_type="bpe",
    trained_pieces=2000,
    pad_vocabulary=True,
    output_length=None,
    quantization="int8",
)

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


def _train_sentencepiece(corpus: Sequence[str], size: ModelSize) -> bytes:
    """Train a shared English/Chinese SentencePiece model; return the serialized proto."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus),
        model_writer=model,
        model_type=size.sentencepiece_type,
        vocab_size=size.trained_pieces or size.vocab,
        character_coverage=1.0,
        hard_vocab_limit=False,
        num_threads=1,
        minloglevel=2,
    )
    return model.getvalue()


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _padded_vocabulary(sp_model: bytes, size: int, seed: int) -> bytes:
    """The SentencePiece model with made-up pieces appended until it has ``size`` of them.

    Training a vocabulary of a real package's size takes millions of sentences; made-up
    pieces (Chinese character pairs, Latin syllables) cost the model the same, and being
    pieces of the SentencePiece model too, whatever the decoder emits still decodes. Each is
    appended as a serialized ``ModelProto.pieces`` entry (field 1; its piece is field 1, its
    score field 2), which protobuf parsers add to the end of the list.
    """
    processor = spm.SentencePieceProcessor(model_proto=sp_model)
    pieces = {processor.id_to_piece(i) for i in range(processor.get_piece_size())}
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    extra = bytearray()
    while len(pieces) < size:
        count = size - len(pieces)
        hanzi = (0x4E00 + rng.integers(0, 20902, (count, 2))).tolist()
        latin = letters[rng.integers(0, 26, (count, 7))].tolist()
        lengths = rng.integers(2, 8, count).tolist()
        for n in range(count):
            if n % 2:
                piece = chr(hanzi[n][0]) + chr(hanzi[n][1])
            else:
                piece = "\u2581" + "".join(latin[n][: lengths[n]])
            if piece in pieces:
                continue
            pieces.add(piece)
            text = piece.encode("utf-8")
            entry = b"\x0a" + _varint(len(text)) + text + b"\x15" + struct.pack("<f", -30.0)
            extra += b"\x0a" + _varint(len(entry)) + entry
    return sp_model + bytes(extra)


def _variable_shape(scope: str, vocab_size: int, size: ModelSize) -> tuple[int, ...]:
    """Shape of the Transformer variable at ``scope`` (e.g. ``decoder/layer_0/ffn/...``)."""
    d = size.d_model
    parts = scope.split("/")
    if parts[-1] in ("gamma", "beta"):
        return (d,)
    if parts[-1] != "weight":
        raise ValueError(f"no shape rule for {scope}")
    module, linear = parts[-3], parts[-2]
    if linear.startswith("embeddings") or linear == "projection":
        return (vocab_size, d)
    if module == "ffn":
        return {"linear_0": (size.ffn, d), "linear_1": (d, size.ffn)}[linear]
    if module == "self_attention":  # fused query/key/value, then output
        return {"linear_0": (3 * d, d), "linear_1": (d, d)}[linear]
    if module == "attention":  # encoder-decoder attention: query, fused key/value, output
        rows = {"linear_0": d, "linear_1": 2 * d, "linear_2": d}[linear]
        return (rows, d)
    raise ValueError(f"no shape rule for {scope}")


def _sinusoids(rows: int, depth: int) -> np.ndarray:
    """The sinusoidal position table of OpenNMT-py (sines, then cosines)."""
    step = np.arange(rows, dtype=np.float32)[:, None]
    rates = np.exp(-np.log(10000.0) * np.arange(depth // 2) / (depth // 2 - 1))
    return np.concatenate([np.sin(step * rates), np.cos(step * rates)], axis=1)


def _source_length_clock(spec: ctranslate2.specs.TransformerSpec, size: ModelSize) -> None:
    """Set decoder dimension 0 to (step - source length): translations end near it.

    The encoder carries +c*j and -c*j (j: source position) in dimensions 3 and 4, which no
    layer writes to; its last FFN adds +K and -K in dimensions 1 and 2, so its final layer
    norm divides every position by the same K*sqrt(2/d) and the j's stay linear (their
    difference cancels the mean). One head of the first decoder layer's encoder-decoder
    attention has a constant query and a key growing with j: it attends to the last source
    position, reads its j (n - 1) and subtracts it from dimension 0, where the position table
    holds the step and nothing else writes.
    """
    d, heads = size.d_model, size.heads
    depth = d // heads
    big, c, u = 1000.0, 0.01, 0.1  # K; j in the encoder residual; j in the encoder output
    std = big * (2.0 / d) ** 0.5  # the final layer norm's divisor at every position
    sharp = 10.0 * depth**0.5 / (2 * u)  # 10 logits between neighbouring positions

    encoder = spec.encoder
    encoder.embeddings[0].weight[:, 1:5] = 0.0
    for layer in encoder.layer:
        layer.self_attention.linear[1].weight[1:5] = 0.0
        layer.ffn.linear_1.weight[1:5] = 0.0
    bias = np.zeros(d, dtype=np.float32)
    bias[1], bias[2] = big, -big
    encoder.layer[-1].ffn.linear_1.bias = bias
    positions = _sinusoids(DECODER_POSITIONS, d)
    positions[:, 1:3] = 0.0
    positions[:, 3] = c * np.arange(DECODER_POSITIONS)
    positions[:, 4] = -positions[:, 3]
    encoder.position_encodings.encodings = positions.astype(np.float32)
    residual_rms = (1.5 + 0.8 * size.layers) ** 0.5  # about; keeps the output near unit scale
    gamma = np.full(d, std / residual_rms, dtype=np.float32)
    gamma[1:3] = 0.0
    gamma[3:5] = u * std / c
    encoder.layer_norm.gamma = gamma

    decoder = spec.decoder
    decoder.embeddings.weight[:, 0] = 0.0
    for layer in decoder.layer:
        layer.self_attention.linear[1].weight[0] = 0.0
        layer.attention.linear[2].weight[0] = 0.0
        layer.ffn.linear_1.weight[0] = 0.0
    attention = decoder.layer[0].attention.linear
    head = (heads - 1) * depth
    query, key_value, output = attention[0], attention[1], attention[2]
    query.weight[head : head + depth] = 0.0
    query.bias = np.zeros(d, dtype=np.float32)
    query.bias[head] = 1.0
    key_value.weight[head : head + depth] = 0.0
    key_value.weight[head, 3:5] = sharp, -sharp
    key_value.weight[d + head : d + head + depth] = 0.0
    key_value.weight[d + head, 3:5] = 1 / (2 * u), -1 / (2 * u)  # value: j
    output.weight[:, head : head + depth] = 0.0
    output.weight[0, head] = -1.0


def _random_transformer(
    processor: spm.SentencePieceProcessor, size: ModelSize, seed: int
) -> ctranslate2.specs.TransformerSpec:
    """A pre-norm Transformer spec with every required variable set to random weights.

    Weights are N(0, 1/fan_in) so that the source reaches the output. Translations end by
    themselves (argostranslate decodes up to 256 tokens): dimension 0 of the decoder position
    table is a clock, (step - OUTPUT_LENGTH) or (step - source length), and the </s> row of the
    output projection reads only that dimension, so </s> wins a few steps after zero.
    """
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    spec = ctranslate2.specs.TransformerSpec.from_config((size.layers, size.layers), size.heads)
    rng = np.random.default_rng(seed)

    def fill(layer: Any, scope: str, value: Any) -> None:
        if value is not None:
            return
        shape = _variable_shape(scope, len(vocabulary), size)
        name = scope.split("/")[-1]
        if name == "gamma":
            array = np.ones(shape, dtype=np.float32)
        elif name == "beta":
            array = np.zeros(shape, dtype=np.float32)
        else:
            array = rng.normal(0.0, shape[-1] ** -0.5, shape).astype(np.float32)
        setattr(layer, name, array)

    model_spec.visit_spec(spec, fill)

    positions = _sinusoids(DECODER_POSITIONS, size.d_model)
    if size.output_length is None:
        _source_length_clock(spec, size)
        positions[:, 0] = np.arange(DECODER_POSITIONS) + 1.0  # ends about the source length
        eos_weight = 8.0  # more pieces to beat: a larger random maximum
    else:
        positions[:, 0] = np.arange(DECODER_POSITIONS) - size.output_length
        eos_weight = 4.0
    spec.decoder.position_encodings.encodings = positions.astype(np.float32)
    projection = spec.decoder.projection
    projection.weight[processor.eos_id()] = 0.0
    projection.weight[processor.eos_id(), 0] = eos_weight
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
    layers: int | None = None,
    seed: int = 0,
    size: ModelSize = TINY_SIZE,
    corpus: Sequence[str] = CORPUS,
) -> Path:
    """Build <dest>/translate-{from}_{to}-{version}.argosmodel and return its path.

    ``layers`` overrides ``size.layers``; ``corpus`` is the tokenizer's training text (the
    benchmark passes the text it translates, as a real tokenizer would know its words).
    """
    if layers is not None:
        size = dataclasses.replace(size, layers=layers)
    name = f"translate-{from_code}_{to_code}-{version}"
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / f"{name}.argosmodel"
    with tempfile.TemporaryDirectory(prefix="argos-build-") as tmp:
        root = Path(tmp) / name
        root.mkdir()
        sp_model = _train_sentencepiece(corpus, size)
        if size.pad_vocabulary:
            sp_model = _padded_vocabulary(sp_model, size.vocab, seed)
        (root / "sentencepiece.model").write_bytes(sp_model)
        processor = spm.SentencePieceProcessor(model_proto=sp_model)
        spec = _random_transformer(processor, size, seed)
        _SpecConverter(spec).convert(
            output_dir=str(root / "model"), quantization=size.quantization, force=True
        )
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
                    data = path.read_bytes()
                    # Random weights barely compress: an Argos-size model.bin is stored.
                    big = len(data) > 1 << 22
                    info.compress_type = zipfile.ZIP_STORED if big else zipfile.ZIP_DEFLATED
                    zipf.writestr(info, data)  # fixed timestamp: reproducible
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

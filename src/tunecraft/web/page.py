"""The studio page (Gradio), mounted at ``/`` in the same app as the HTTP API.

Every button submits a job to the same queue the API uses (so the library holds what the page
made) and follows it to the end with a progress bar. Nothing on the page loads from another
host: system fonts, analytics off.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..errors import TunecraftError
from . import jobs as job_kinds
from .store import Job, Store

# Examples: a few requests from the founding documents (MusicLM's demo captions) and our own,
# in English, Spanish and Portuguese.
EXAMPLES = [
    ["An 80s driving pop song with heavy drums and synth pads in the background", 30],
    ["A calming violin melody backed by a distorted guitar riff", 30],
    ["A cheerful country song with acoustic guitars", 30],
    ["upbeat bossa nova with flute, 120 bpm", 45],
    ["una cumbia alegre con acordeón", 30],
    ["um samba animado com cavaquinho e pandeiro", 30],
    ["laid-back lofi hip hop with rhodes, 85 bpm", 40],
    ["a string quartet, slow and sad, in D minor", 45],
]
FINAL = ("done", "failed", "cancelled")


def _follow(store: Store, job: Job, progress: Any, timeout: float = 1800.0) -> Job:
    t0 = time.time()
    while time.time() - t0 < timeout:
        now = store.job(job.id)
        if now is None:
            raise TunecraftError("the job was deleted")
        if progress is not None:
            progress(now.progress, desc=now.stage or now.status)
        if now.status in FINAL:
            return now
        time.sleep(0.25)
    raise TunecraftError("the job did not finish in time")


def _outputs(store: Store, job: Job) -> tuple[Any, ...]:
    """(audio, piano roll, files, summary, job id) of a finished job."""
    folder = store.job_folder(job.id)
    files = job.files
    audio = str(folder / files["wav"]) if "wav" in files else None
    roll = str(folder / files["png"]) if "png" in files else None
    downloads = [str(folder / name) for key, name in files.items() if key != "png"]
    return audio, roll, downloads, _summary(store, job), job.id


_CONVERSATIONS: dict[str, Any] = {}
MAX_CONVERSATIONS = 64


def chat_turn(store: Store, conversation: str | None, message: str) -> tuple[str, Any, str | None,
                                                                               list[str]]:
    """One message of the Chat tab: (conversation id, the turn, the audio to play, the files
    to download). A conversation's files live in ``<data>/chat/<id>/``; the conductor (and
    its memory) stays in this process, the latest 64 conversations at most."""
    import uuid

    from .. import api

    if not (message or "").strip():
        raise TunecraftError("type a message first")
    if len(message) > 2000:
        raise TunecraftError("a message is at most 2,000 characters")
    if conversation not in _CONVERSATIONS:
        conversation = uuid.uuid4().hex[:12]
        if len(_CONVERSATIONS) >= MAX_CONVERSATIONS:
            _CONVERSATIONS.pop(next(iter(_CONVERSATIONS)))
        _CONVERSATIONS[conversation] = api.conductor(store.folder / "chat" / conversation,
                                                     confined=True)
    turn = _CONVERSATIONS[conversation].turn(message)
    made = [p for c in turn.calls for p in c.outputs]
    audio = next((p for p in reversed(made) if p.endswith((".wav", ".mp3", ".flac", ".ogg"))),
                 None)
    return conversation, turn, audio, made


def _summary(store: Store, job: Job) -> str:
    """What the job made, in a few lines, and what was understood of the request."""
    if job.status != "done":
        return f"**{job.status}**: {job.error or ''}"
    lines = [f"**{job.kind}** done in {job.seconds:.1f} s (job `{job.id}`)"]
    doc_name = job.files.get("json")
    doc: dict[str, Any] = {}
    if doc_name:
        try:
            doc = json.loads((store.job_folder(job.id) / doc_name).read_text())
        except (OSError, ValueError):
            doc = {}
    summary = doc.get("summary") or {}
    if summary:
        lines.append(f"**{summary.get('title', '')}**: {summary.get('bpm', 0):g} bpm, "
                     f"{summary.get('key', '?')}, {summary.get('meter', '?')}, "
                     f"{summary.get('duration_seconds', 0):.1f} s")
        sections = summary.get("sections") or []
        if sections:
            lines.append("Sections: " + ", ".join(
                f"{s.get('name')} (bar {s.get('bar')}, {s.get('start_seconds', 0):.1f} s)"
                for s in sections))
        tracks = summary.get("tracks") or []
        if tracks:
            lines.append("Instruments: " + ", ".join(str(t.get("name")) for t in tracks))
    if doc.get("warnings"):
        lines.append("Warnings: " + "; ".join(doc["warnings"]))
    if doc.get("explanation"):
        lines.append("What I understood:\n\n```\n" + "\n".join(doc["explanation"]) + "\n```")
    return "\n\n".join(lines)


def build(store: Store) -> Any:
    """The Blocks of the studio page over ``store``."""
    import gradio as gr

    from .. import api

    styles = sorted(s["name"] for s in api.styles())

    def submit(kind: str, body: dict[str, Any], progress: Any) -> tuple[Any, ...]:
        body = {k: v for k, v in body.items() if v not in (None, "", [])}
        try:
            params = job_kinds.check(kind, body, lambda i: (u.kind if (u := store.upload(i))
                                                            else None), store.score_of)
        except TunecraftError as exc:
            raise gr.Error(" ".join(str(exc).split())) from None
        job = _follow(store, store.add_job(kind, params), progress)
        if job.status != "done":
            raise gr.Error(f"{job.status}: {job.error or ''}")
        return _outputs(store, job)

    def uploaded(path: str | None) -> str:
        """A file from the page becomes an upload, as the API would take it."""
        if not path:
            raise gr.Error("choose a file first")
        from .app import accept_upload, sniff

        src = Path(path)
        data = src.read_bytes()
        kind = sniff(data[:8192])
        if kind is None:
            raise gr.Error("the file is not audio (WAV, FLAC, MP3, OGG, AIFF), MIDI or MusicXML")
        import tempfile

        with tempfile.NamedTemporaryFile(dir=store.folder / "uploads", prefix="up-",
                                         suffix=".part", delete=False) as tmp:
            tmp.write(data)
        try:
            return accept_upload(store, kind, src.name, Path(tmp.name)).id
        except TunecraftError as exc:
            raise gr.Error(" ".join(str(exc).split())) from None

    def num(x: Any) -> Any:
        return None if x in (None, "") else x

    def typed(text: Any, kind: type, name: str) -> Any:
        """A number typed in a text box; empty is None."""
        text = str(text or "").strip()
        if not text:
            return None
        try:
            return kind(text)
        except ValueError:
            raise gr.Error(f"{name} must be a {'whole ' if kind is int else ''}number, not "
                           f"{text!r}") from None

    # Gradio copies each file it shows into its cache: files older than a day are removed.
    with gr.Blocks(title="tunecraft studio", analytics_enabled=False,
                   delete_cache=(3600, 86400)) as page:
        gr.Markdown("# tunecraft studio\nDescribe music, hum a tune, continue a piece, tell a "
                    "story, speak and sing. Everything runs on this computer.")
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Tab("Describe"):
                    prompt = gr.Textbox(label="Describe the music (English, Spanish or "
                                              "Portuguese)", lines=2, elem_id="prompt")
                    with gr.Row():
                        duration = gr.Number(label="Seconds", value=30, minimum=1,
                                             maximum=600, elem_id="duration")
                        seed = gr.Textbox(label="Seed", placeholder="empty: a new one",
                                          elem_id="seed")
                        bpm = gr.Textbox(label="BPM", placeholder="empty: as described")
                    with gr.Row():
                        key = gr.Textbox(label="Key (optional, e.g. D minor)")
                        meter = gr.Textbox(label="Meter (optional, e.g. 6/8)")
                        style = gr.Dropdown(choices=["", *styles], value="",
                                            label="Style (optional)")
                    lyrics = gr.Textbox(label="Lyrics (optional)", lines=3)
                    sing = gr.Checkbox(label="Sing the lyrics with a voice")
                    go = gr.Button("Generate", variant="primary", elem_id="generate")
                    gr.Examples(EXAMPLES, [prompt, duration])
                with gr.Tab("Melody"):
                    melody = gr.Audio(label="Hum, whistle or upload a tune", type="filepath",
                                      sources=["upload", "microphone"])
                    melody_file = gr.File(label="...or a MIDI / MusicXML melody",
                                          file_types=[".mid", ".midi", ".musicxml", ".mxl"])
                    arr_prompt = gr.Textbox(label="Arrange it as", value="string quartet")
                    arr_go = gr.Button("Arrange", variant="primary")
                with gr.Tab("Continue"):
                    cont_file = gr.File(label="A piece to continue (audio, MIDI, MusicXML)")
                    cont_seconds = gr.Number(label="Seconds to add", value=20, minimum=1)
                    cont_prompt = gr.Textbox(label="Changes (optional, e.g. faster, with "
                                                   "strings)")
                    cont_go = gr.Button("Continue", variant="primary")
                with gr.Tab("Story"):
                    timeline = gr.Dataframe(
                        headers=["at (M:SS)", "what the music does"], datatype=["str", "str"],
                        value=[["0:00", "calm piano"], ["0:15", "energetic rock"],
                               ["0:30", "gentle strings"]],
                        row_count=(3, "dynamic"), column_count=(2, "fixed"),
                        interactive=True, label="Timeline (add a row for each change)")
                    story_seconds = gr.Number(label="Seconds", value=45)
                    story_go = gr.Button("Compose the story", variant="primary")
                with gr.Tab("Lyrics"):
                    song_prompt = gr.Textbox(label="The song", value="a pop ballad with piano")
                    song_words = gr.Textbox(label="Lyrics ([chorus] marks the chorus; blank "
                                                  "lines part the stanzas)", lines=8)
                    song_seconds = gr.Number(label="Seconds", value=60)
                    song_sing = gr.Checkbox(label="Sung by a voice (else played by the "
                                                  "vocal part's instrument)", value=True)
                    song_go = gr.Button("Write the song", variant="primary")
                with gr.Tab("Voice"):
                    speech = gr.Textbox(label="Text or SSML to speak", lines=3)
                    lang = gr.Dropdown(["en", "es", "pt"], value="en", label="Language")
                    speak_go = gr.Button("Speak", variant="primary")
                    sing_file = gr.File(label="A melody to sing (MIDI / MusicXML)")
                    sing_words = gr.Textbox(label="Words to sing", lines=2)
                    sing_go = gr.Button("Sing", variant="primary")
                with gr.Tab("Chat"):
                    chatbot = gr.Chatbot(label="Talk to tunecraft in English, Spanish or "
                                               "Portuguese", elem_id="chat", height=360)
                    said = gr.Textbox(label="Your message", elem_id="chat-input",
                                      placeholder="compose a calm piano piece, then put rain "
                                                  "under it")
                    send = gr.Button("Send", variant="primary", elem_id="chat-send")
                with gr.Tab("Library"):
                    query = gr.Textbox(label="Search prompts")
                    table = gr.Dataframe(headers=["id", "kind", "status", "prompt", "seconds"],
                                         interactive=False, elem_id="library")
                    refresh = gr.Button("Refresh")
                    chosen = gr.Textbox(label="Job id to open or delete")
                    with gr.Row():
                        open_go = gr.Button("Open")
                        compose_go = gr.Button("Open in the composer")
                        delete_go = gr.Button("Delete", variant="stop")
            with gr.Column(scale=2):
                player = gr.Audio(label="Result", type="filepath", interactive=False,
                                  elem_id="player")
                roll = gr.Image(label="Piano roll", type="filepath", interactive=False)
                info = gr.Markdown(elem_id="info")
                files = gr.File(label="Downloads", file_count="multiple", interactive=False,
                                elem_id="downloads")
                with gr.Accordion("Change it (no recomposing: the same notes, played again)",
                                  open=False):
                    with gr.Row():
                        new_bpm = gr.Textbox(label="BPM", placeholder="e.g. 128")
                        new_key = gr.Textbox(label="Key (same mode)", placeholder="e.g. E major")
                    new_mute = gr.Textbox(label="Mute tracks", placeholder="Drums, Synth Pad")
                    new_solo = gr.Textbox(label="Solo tracks", placeholder="Piano")
                    new_inst = gr.Textbox(label="Swap instruments",
                                          placeholder="Piano=organ, Lead=flute")
                    with gr.Row():
                        new_section = gr.Textbox(label="Compose one section again",
                                                 placeholder="chorus (the rest stays)")
                        new_seed = gr.Textbox(label="with seed", placeholder="empty: a new one")
                    edit_go = gr.Button("Play it again with these changes")
        last = gr.State(None)
        conversation = gr.State(None)
        results = [player, roll, files, info, last]
        tracker = gr.Progress()  # Gradio gives each call its own, by this default

        def do_generate(p, d, s, b, k, m, st, ly, si, progress=tracker):
            text = f"{p} ({st})" if st and st.lower() not in (p or "").lower() else p
            return submit("generate", {"prompt": text, "duration": num(d),
                                       "seed": typed(s, int, "the seed"),
                                       "bpm": typed(b, float, "BPM"), "key": k, "meter": m,
                                       "lyrics": ly,
                                       "sing": bool(si) or None}, progress)

        go.click(do_generate, [prompt, duration, seed, bpm, key, meter, style, lyrics, sing],
                 results)

        def do_arrange(audio_path, midi, p, progress=tracker):
            source = audio_path or (midi if isinstance(midi, str) else getattr(midi, "name",
                                                                               None))
            return submit("arrange", {"melody": uploaded(source), "prompt": p}, progress)

        arr_go.click(do_arrange, [melody, melody_file, arr_prompt], results)

        def do_continue(f, secs, p, progress=tracker):
            path = f if isinstance(f, str) else getattr(f, "name", None)
            return submit("continue", {"source": uploaded(path), "duration": num(secs),
                                       "prompt": p}, progress)

        cont_go.click(do_continue, [cont_file, cont_seconds, cont_prompt], results)

        def do_story(rows, secs, progress=tracker):
            """The timeline table as the lines story mode reads ("0:15 energetic rock")."""
            values = rows.values.tolist() if hasattr(rows, "values") else list(rows or [])
            lines = [f"{str(at).strip()} {str(what).strip()}" for at, what in values
                     if str(at or "").strip() and str(what or "").strip()]
            return submit("story", {"timeline": lines, "duration": num(secs)}, progress)

        def do_song(p, words, secs, voice_on, progress=tracker):
            return submit("generate", {"prompt": p, "lyrics": words, "duration": num(secs),
                                       "sing": bool(voice_on) or None}, progress)

        song_go.click(do_song, [song_prompt, song_words, song_seconds, song_sing], results)

        story_go.click(do_story, [timeline, story_seconds], results)

        def do_speak(text, language, progress=tracker):
            return submit("speak", {"text": text, "lang": language}, progress)

        speak_go.click(do_speak, [speech, lang], results)

        def do_sing(f, words, language, progress=tracker):
            path = f if isinstance(f, str) else getattr(f, "name", None)
            return submit("sing", {"melody": uploaded(path), "lyrics": words,
                                   "lang": language}, progress)

        sing_go.click(do_sing, [sing_file, sing_words, lang], results)

        def do_chat(message, history, convo):
            try:
                convo, turn, audio, made = chat_turn(store, convo, message)
            except TunecraftError as exc:
                raise gr.Error(" ".join(str(exc).split())) from None
            history = [*(history or []), {"role": "user", "content": message},
                       {"role": "assistant", "content": turn.reply}]
            return history, "", convo, audio, None, made, turn.reply

        chat_outputs = [chatbot, said, conversation, player, roll, files, info]
        send.click(do_chat, [said, chatbot, conversation], chat_outputs)
        said.submit(do_chat, [said, chatbot, conversation], chat_outputs)

        def library(q):
            return [[j.id, j.kind, j.status, (j.params.get("prompt") or j.params.get("text")
                                              or "")[:80], j.seconds]
                    for j in store.jobs(q=q or None, limit=200)]

        refresh.click(library, [query], [table])
        query.submit(library, [query], [table])
        page.load(library, [query], [table])

        def do_open(job_id):
            job = store.job((job_id or "").strip())
            if job is None:
                raise gr.Error("no such job")
            if job.status != "done":
                return None, None, [], _summary(store, job), None
            return _outputs(store, job)

        open_go.click(do_open, [chosen], results)

        def do_compose(job_id):
            """A past request back in the Describe form, to change and make again."""
            job = store.job((job_id or "").strip())
            if job is None:
                raise gr.Error("no such job")
            if job.kind != "generate":
                raise gr.Error(f"a {job.kind} job has no description to open")
            p = job.params

            def text(v: Any) -> str:
                return "" if v is None else f"{v:g}" if isinstance(v, float) else str(v)

            return (p.get("prompt", ""), p.get("duration") or 30, text(p.get("seed")),
                    text(p.get("bpm")), p.get("key") or "", p.get("meter") or "",
                    p.get("lyrics") or "", bool(p.get("sing")))

        compose_go.click(do_compose, [chosen],
                         [prompt, duration, seed, bpm, key, meter, lyrics, sing])

        def do_delete(job_id, q):
            job = store.job((job_id or "").strip())
            if job is None:
                raise gr.Error("no such job")
            store.remove(job.id)
            return library(q)

        delete_go.click(do_delete, [chosen, query], [table])

        def names(text: Any) -> list[str]:
            return [n.strip() for n in str(text or "").split(",") if n.strip()]

        def do_edit(job_id, b, k, mute, solo, swaps, section, sd, progress=tracker):
            if not job_id:
                raise gr.Error("make or open a piece first")
            return submit("edit", {"job": job_id, "bpm": typed(b, float, "BPM"), "key": k,
                                   "mute": names(mute), "solo": names(solo),
                                   "instruments": names(swaps), "section": section,
                                   "seed": typed(sd, int, "the seed")}, progress)

        edit_go.click(do_edit, [last, new_bpm, new_key, new_mute, new_solo, new_inst,
                                new_section, new_seed], results)
    return page


def theme() -> Any:
    """Gradio's default look with system fonts (its own would load from Google Fonts)."""
    import gradio as gr

    system = ["ui-sans-serif", "system-ui", "sans-serif"]
    mono = ["ui-monospace", "monospace"]
    return gr.themes.Default(font=system, font_mono=mono)

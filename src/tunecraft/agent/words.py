"""The conductor's words: what each tool is asked with, follow-up changes, references to
earlier results, greetings and requests no tool serves, in English, Spanish and Portuguese.

Patterns are regular expressions over *folded* text (lower case, accents removed, same length
as the original, see :func:`fold`), so "canción", "cancion" and "CANCIÓN" read alike.
"""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower case without accents, one character for each character of ``text`` (so spans
    found in the folded text cut the original at the same places)."""
    out = []
    for c in text.lower():
        base = [ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch)]
        out.append(base[0] if len(base) == 1 else c)
    return "".join(out)


def _any(*words: str) -> str:
    return r"\b(?:" + "|".join(words) + r")\b"


GREETING = re.compile(r"^\s*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|hola|"
                      r"buenas(?: tardes| noches)?|buenos dias|ola|oi|bom dia|boa tarde|"
                      r"boa noite|e ai)\b[\s!.,?]*(?:there|tunecraft|amigo|amiga)?[\s!.,?]*$")
HELP = re.compile(_any(r"what (?:can|do) you do", r"what are you able", r"help(?: me)?$",
                       r"what can you help", r"en que me puedes ayudar",
                       r"em que (?:voce )?(?:pode|consegue) me ajudar",
                       r"^help", r"how does this work", r"what tools", r"capabilities",
                       r"que (?:puedes|sabes) hacer", r"que haces", r"ayuda", r"como funciona",
                       r"o que (?:voce|tu) (?:pode|sabe|consegue) fazer", r"o que voce faz",
                       r"ajuda", r"como isso funciona"))
THANKS = re.compile(r"^\s*(?:thanks|thank you|thx|cheers|great|perfect|gracias|muchas gracias|"
                    r"perfecto|genial|obrigad[oa]|valeu|perfeito|otimo)\b[\s!.,]*"
                    r"(?:a lot|so much|very much)?[\s!.,]*$")

# Things people ask that no tool does.
UNSUPPORTED = {
    "video": _any(r"videos?", r"movie", r"film(?:e)?", r"clip de video", r"pelicula"),
    "image": _any(r"images?", r"pictures?", r"photos?", r"drawings?", r"draw", r"paint(?:ing)?",
                  r"logo", r"imagen(?:es)?", r"foto(?:s|grafia)?", r"dibujo", r"dibuja",
                  r"imagem", r"imagens", r"desenho", r"desenhe", r"pinta"),
    "translation": _any(r"translat\w*", r"traduc\w*", r"traduz\w*", r"traduci\w*"),
    "weather": _any(r"weather", r"forecast", r"clima", r"previsao do tempo",
                    r"que tiempo hace", r"pronostico", r"will it (?:rain|snow|be sunny)",
                    r"going to (?:rain|snow)", r"va a llover", r"llovera", r"vai chover",
                    r"chovera", r"tomorrow's weather", r"temperature (?:in|tomorrow)"),
    "news": _any(r"news", r"noticias", r"headlines"),
    "email": _any(r"e-?mails?", r"correo", r"mensaje de texto", r"sms"),
    "code": _any(r"python code", r"write (?:a |some )?code", r"program(?:me)? in", r"codigo",
                 r"script de python"),
    "maths": _any(r"solve (?:this|the) equation", r"calculate", r"calcula", r"square root",
                  r"raiz cuadrada"),
    "booking": _any(r"book (?:a|me a) (?:flight|table|hotel)", r"reserva(?:r)? (?:un|uma?)",
                    r"order (?:a )?pizza"),
}

MUSIC_NOUN = re.compile(_any(
    r"music", r"musical", r"songs?", r"pieces?", r"tunes?", r"tracks?", r"melod(?:y|ies)",
    r"beats?", r"soundtrack", r"score music", r"jingle", r"lullaby", r"anthem", r"ballad",
    r"waltz", r"march", r"groove", r"instrumental", r"theme", r"composition", r"riff", r"cue",
    r"musica", r"canci(?:on|ones)", r"piezas?", r"temas?", r"melodias?", r"cancao", r"cancoes",
    r"pecas?", r"faixas?", r"trilha(?: sonora)?", r"banda sonora", r"composic(?:ao|ion)",
    r"nana", r"vals", r"valsa", r"marcha", r"himno", r"hino", r"baladas?", r"cancion de cuna",
    r"cantiga", r"canco"))

CREATE = re.compile(_any(
    r"compose", r"write", r"make", r"create", r"generate", r"produce", r"give me", r"i want",
    r"i need", r"i'd like", r"play me", r"can you (?:make|write|compose)",
    r"componer", r"compon", r"componme", r"escribe", r"escribeme", r"haz", r"hazme", r"crea",
    r"creame", r"genera", r"quiero", r"necesito", r"dame", r"toca(?:me)?", r"produce",
    r"compoe", r"compor", r"componha", r"escreva", r"faca", r"faz", r"cria", r"crie", r"gere",
    r"gera", r"quero", r"preciso", r"me de", r"me da", r"toque", r"produza"))

REF = re.compile(_any(r"it", r"that", r"this one", r"the last one", r"the previous one",
                      r"the same", r"eso", r"esto", r"la ultima", r"el ultimo", r"lo mismo",
                      r"isso", r"isto", r"o ultimo", r"a ultima", r"a mesma", r"o mesmo",
                      r"hazlo", r"ponlo", r"ponla", r"hazla", r"faca-o", r"faca-a", r"deixa-a",
                      r"deixe-a", r"deixe", r"ela", r"ele"))

BED = re.compile(_any(r"under(?:neath)?", r"beneath", r"behind", r"in the background",
                      r"background", r"as a bed", r"bed", r"debajo", r"por debajo",
                      r"de fondo", r"al fondo", r"en el fondo", r"ao fundo", r"de fundo",
                      r"no fundo", r"por baixo", r"embaixo", r"debaixo"))
OVER = re.compile(_any(r"over (?:it|that|the music|the piece|the track)", r"on top",
                       r"encima", r"por encima", r"sobre (?:ella|el|la musica|eso)",
                       r"por cima", r"sobre (?:ela|ele|a musica|isso)", r"em cima"))

LOOP = re.compile(_any(r"loop(?:ed|able|ing)?", r"seamless", r"en bucle", r"bucle",
                       r"sin cortes", r"em loop", r"sem emendas", r"sem cortes"))

# Tool triggers, tried in this order (the first match decides).
RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(p)) for name, p in (
    ("listen", _any(r"what (?:does|did) (?:it|he|she|they|the \w+) say", r"what is said",
                    r"write down (?:the |what )?(?:words|speech|is said|they say|said)",
                    r"(?:transcribe|transcript of) (?:the |this |my )?(?:speech|words|voice|"
                    r"interview|talk|podcast|narration|spoken)",
                    r"subtitles?", r"transcript", r"speech to text",
                    r"que dice", r"que dijo", r"escribe lo que dice", r"subtitulos?",
                    r"transcribe (?:la |el )?(?:voz|discurso|entrevista|habla)",
                    r"o que (?:ele|ela|isso|se) (?:diz|disse)", r"legendas?",
                    r"transcreva (?:a |o )?(?:fala|voz|entrevista|discurso)")),
    ("convert_voice", _any(r"(?:voice|voz) (?:deeper|higher|lower|younger|older|mas grave|"
                           r"mas aguda|mais grave|mais aguda|de nino|de crianca)",
                           r"(?:deeper|higher|lower|child'?s?|younger) voice",
                           r"change (?:the |my |this )?voice", r"pitch (?:of|the) (?:voice|speech)",
                           r"cambia(?:r)? (?:la |mi )?voz", r"voz (?:de nino|mas grave|"
                           r"mas aguda)", r"mud(?:a|e|ar) (?:a |minha )?voz",
                           r"voz (?:de crianca|mais grave|mais aguda)", r"transpose the voice",
                           r"voice\b.{0,40}\b(?:deeper|higher|lower|younger|child)",
                           r"voz\b.{0,40}\b(?:mas grave|mas aguda|de nino|mais grave|"
                           r"mais aguda|de crianca)")),
    ("separate", _any(r"separate", r"split", r"isolate", r"extract (?:the )?(?:drums|vocals?|"
                      r"voice|bass)", r"remove the vocals?", r"karaoke", r"stems? (?:of|from)",
                      r"separa(?:r|me)?", r"aisla(?:r)?", r"extrae(?:r)?", r"quita(?:r)? la voz",
                      r"separe", r"isola(?:r)?", r"extrai(?:a|r)?", r"tira(?:r)? a voz",
                      r"tire a voz",
                      r"drums? from", r"bateria de")),
    ("denoise", _any(r"denoise", r"de-noise",
                     r"(?:hum|hiss|noise|buzz|static)\b.{0,60}\b(?:fix|clean|remove|get rid)",
                     r"clean (?:up )?(?:the |that )?(?:hiss|hum|noise|buzz|static)",
                     r"limpia(?:r)? (?:el |ese )?ruido", r"limp(?:e|a|ar) o ruido",
                     r"ruido\b.{0,60}\b(?:quita|quitalo|limpia|arregla|tire|tira|limpe|"
                     r"limpa|remova)", r"(?:reduce|remove|cut|kill) (?:the |that )?"
                     r"(?:hiss|hum|buzz|noise|static)",
                     r"remove (?:the )?(?:noise|hiss|hum|background "
                     r"noise)", r"reduce (?:the )?noise", r"noise reduction", r"noisy",
                     r"clean (?:up )?(?:the |this |my )?(?:audio|recording|sound|voice|file|"
                     r"it)", r"clean it up", r"quita(?:r)? el ruido", r"reduc(?:e|ir) el ruido",
                     r"ruidos[oa]", r"tire o ruido", r"tira o ruido",
                     r"limpia(?:r)? (?:el |la |este |esta )?(?:audio|grabacion|"
                     r"sonido|voz)", r"tira(?:r)? o ruido", r"remov(?:a|er) o ruido",
                     r"reduz(?:a|ir)? o ruido", r"limp(?:a|e|ar) (?:o |a |este |esta )?"
                     r"(?:audio|gravacao|som|voz)", r"chiado")),
    ("speak", _any(r"say", r"speak", r"read (?:aloud|out|this|it)", r"read\b", r"narrate",
                   r"pronounce", r"voice ?over", r"text to speech", r"announce",
                   r"di", r"decir", r"dime", r"lee(?:r)?", r"leeme", r"narra(?:r)?",
                   r"pronuncia", r"locucion", r"anuncia", r"diga", r"dizer", r"fala(?:r)?",
                   r"fale", r"leia", r"ler", r"narre", r"locucao", r"anuncie")),
    ("sing", _any(r"sing", r"singing", r"sung", r"sings", r"canta", r"cantar", r"cante",
                  r"cantando", r"cantame", r"canta-me")),
    ("transcribe", _any(r"transcribe", r"transcription", r"notes of", r"write (?:out|down) "
                        r"the notes", r"(?:into|to|as) (?:midi|notes|a score|sheet music)",
                        r"sheet music (?:of|from)", r"transcribir", r"transcripcion",
                        r"notas de", r"partitura de", r"transcrever", r"transcreva",
                        r"transcricao")),
    ("mix", _any(r"mix", r"layer", r"combine", r"blend", r"mezcla(?:r)?", r"combina(?:r)?",
                 r"junta(?:r)?", r"mistura(?:r)?", r"misture", r"mixa(?:r|gem)?", r"mixe", r"junte",
                 r"combine")),
    ("arrange", _any(r"arrange", r"arrangement", r"harmoni[sz]e", r"orchestrate",
                     r"accompaniment for", r"my humming", r"i hummed", r"hummed",
                     r"arregla(?:r)?", r"arreglo", r"armoniza(?:r)?", r"orquestar", r"orquestala",
                     r"tarare\w*", r"arranj\w*", r"harmoniz\w*", r"orquestre", r"orquestrar",
                     r"cantarol\w*")),
    ("continue", _any(r"continue", r"keep going", r"carry on", r"go on with", r"extend",
                      r"continua(?:r)?", r"sigue", r"prolonga(?:r)?", r"extiende",
                      r"continue", r"prossiga", r"estenda", r"prolongue")),
    ("render", _any(r"render", r"play (?:this|the|my) (?:midi|score|file|musicxml)",
                    r"toca(?:r)? (?:este|el|mi) (?:midi|archivo|partitura)",
                    r"toque (?:este|o|meu) (?:midi|arquivo|partitura)", r"renderiza\w*")),
    ("convert", _any(r"convert", r"export", r"(?:as|to|in|an?|into) (?:mp3|wav|flac|ogg|midi|"
                     r"musicxml)", r"mp3", r"flac", r"ogg", r"musicxml", r"convierte",
                     r"conviertelo", r"exporta(?:r)?", r"converta", r"converte(?:r)?",
                     r"exporte")),
    ("info", _any(r"info(?:rmation)?", r"how long is", r"what key is", r"what tempo",
                  r"tell me about (?:this|the) file", r"describe (?:this|the) file",
                  r"informacion", r"cuanto dura", r"que tonalidad", r"informacao",
                  r"quanto dura", r"que tom", r"detalles de", r"detalhes d[oa]")),
    ("explain", _any(r"explain", r"what do you understand", r"how (?:do|would) you "
                     r"(?:read|understand)", r"explica(?:me)?", r"que entiendes",
                     r"explique", r"o que voce entende")),
    ("evaluate", _any(r"evaluate", r"measure", r"rate (?:this|it|my)", r"analy[sz]e",
                      r"assess", r"how good", r"evalua(?:r)?", r"analiza(?:r)?", r"mide",
                      r"avali(?:e|a|ar)", r"analis(?:e|a|ar)", r"mec[ao]")),
))

STORY = re.compile(_any(r"story", r"tells? a story", r"historia", r"cuento", r"narrativa",
                        r"timeline", r"linea de tiempo", r"linha do tempo"))
STAMP = re.compile(r"\b(?:at )?(\d{1,2}):([0-5]\d)\b")

# Follow-up changes to the last piece.
FASTER = re.compile(_any(r"faster", r"quicker", r"speed (?:it )?up", r"more tempo",
                         r"(?:bump|push|pick|kick) (?:the tempo|it) up", r"tempo up",
                         r"up the tempo", r"mas rapid[oa]", r"mas deprisa", r"acelera(?:la|lo)?",
                         r"mais rapid[oa]", r"mais depressa", r"acelere"))
SLOWER = re.compile(_any(r"slower", r"slow (?:it )?down", r"less tempo",
                         r"(?:bring|take|pull) (?:the tempo|it) down", r"tempo down",
                         r"mas lent[oa]",
                         r"mas despacio", r"mais lent[oa]", r"mais devagar", r"desacelera"))
LONGER = re.compile(_any(r"longer", r"mas larg[oa]", r"mais long[oa]", r"mais comprid[oa]",
                         r"que dure mas", r"que dure mais"))
SHORTER = re.compile(_any(r"shorter", r"mas cort[oa]", r"mais curt[oa]", r"que dure menos"))
LOUDER = re.compile(_any(r"louder", r"more volume", r"turn (?:it )?up", r"mas fuerte",
                         r"mas alto", r"sube el volumen", r"mais alto", r"mais forte",
                         r"aumenta o volume", r"aumente o volume"))
SOFTER = re.compile(_any(r"softer", r"quieter", r"turn (?:it )?down", r"lower the volume",
                         r"mas bajo", r"mas suave", r"mas flojo", r"baja el volumen",
                         r"mais baixo", r"mais suave", r"abaixa o volume", r"abaixe o volume"))
NO_DRUMS = re.compile(_any(r"without (?:the )?drums", r"no drums", r"remove the drums",
                           r"take (?:out )?the drums(?: out)?", r"lose the drums",
                           r"kill the drums", r"get rid of the drums",
                           r"mute the drums", r"drop the drums", r"sin (?:la )?bateria",
                           r"quita(?:le)? la bateria", r"sem (?:a )?bateria",
                           r"tira(?:r)? a bateria", r"remov(?:a|e) a bateria"))
WITH_DRUMS = re.compile(_any(r"with drums", r"add (?:some )?drums", r"con bateria",
                             r"anade (?:una )?bateria", r"ponle bateria", r"com bateria",
                             r"adicione (?:uma )?bateria", r"coloque bateria",
                             r"poe bateria"))
MORE_ENERGY = re.compile(_any(r"more energy", r"more energetic", r"more intense", r"livelier",
                             r"more power", r"mas energia", r"mas energic[oa]", r"mas intens[oa]",
                             r"mas animad[oa]", r"mais energia", r"mais energetic[oa]",
                             r"mais intens[oa]", r"mais animad[oa]"))
CALMER = re.compile(_any(r"calmer", r"more relaxed", r"more chill", r"less intense", r"gentler",
                         r"mas tranquil[oa]", r"mas calmad[oa]", r"mas relajad[oa]",
                         r"mais calm[oa]", r"mais tranquil[oa]", r"mais relaxad[oa]"))
MINOR = re.compile(_any(r"minor", r"menor", r"in a minor key", r"sad(?:der)?"))
MAJOR = re.compile(_any(r"major", r"mayor", r"maior", r"happier"))
SWAP = (
    re.compile(r"\b(?:swap|replace|change|switch|exchange)\s+(?:the\s+)?(?P<old>[a-z][\w \-]*?)"
               r"\s+(?:for|with|to|by|into)\s+(?:a |an |the |some )?(?P<new>[a-z][\w \-]*?)"
               r"\s*(?:$|[,.;!?]| and\b| please\b)"),
    re.compile(r"\b(?:cambia|cambiar|reemplaza|sustituye)\s+(?:el |la |los |las )?"
               r"(?P<old>[a-z][\w \-]*?)\s+(?:por|con)\s+(?:un |una |el |la )?"
               r"(?P<new>[a-z][\w \-]*?)\s*(?:$|[,.;!?]| y\b| por favor\b)"),
    re.compile(r"\b(?:troque|troca|trocar|muda|mude|substitua|substitui)\s+(?:o |a |os |as )?"
               r"(?P<old>[a-z][\w \-]*?)\s+(?:por|pelo|pela|com)\s+(?:um |uma |o |a )?"
               r"(?P<new>[a-z][\w \-]*?)\s*(?:$|[,.;!?]| e\b| por favor\b)"),
    re.compile(r"\b(?:use |usa |use a |play it on |con |com |with )?(?:a |an |un |una |um |uma )?"
               r"(?P<new>[a-z][\w \-]*?)\s+(?:instead of|rather than|en vez del?|en lugar del?|"
               r"em vez d[eoa]s?|no lugar d[eoa]s?|ao inves d[eoa]s?)\s+(?:the |el |la |o |a )?"
               r"(?P<old>[a-z][\w \-]*?)\s*(?:$|[,.;!?])"),
)
STYLE_CHANGE = re.compile(_any(r"make it", r"turn it into", r"as an?", r"in (?:a |the )?\w+ "
                               r"style", r"another style", r"different style", r"hazlo",
                               r"haz que suene", r"estilo", r"como un[ao]?", r"version",
                               r"faca-a", r"faz", r"deixa", r"deixe", r"transforma", r"versao"))

LANGUAGE_NAMES = {
    "es": re.compile(_any(r"in spanish", r"en espanol", r"em espanhol", r"spanish", r"espanol",
                          r"castellano", r"espanhol")),
    "pt": re.compile(_any(r"in portuguese", r"en portugues", r"em portugues", r"portuguese",
                          r"portugues", r"brazilian")),
    "en": re.compile(_any(r"in english", r"en ingles", r"em ingles", r"english", r"ingles")),
}

FORMATS = re.compile(r"\b(mp3|wav|flac|ogg|midi|mid|musicxml|sheet music|partitura)\b")

SPLIT = re.compile(
    r"\s*(?:;|\.\s+(?=\w)|,?\s+(?:and\s+)?then\b,?|,?\s+after that\b,?|,?\s+(?:y\s+)?luego\b,?|"
    r",?\s+(?:y\s+)?despues\b,?|,?\s+(?:e\s+)?depois\b,?|,?\s+em seguida\b,?|"
    r",?\s+(?:and|y|e)\s+(?=(?:put|add|give|make|turn|convert|export|sing|say|mix|separate|"
    r"clean|remove|save|render|layer|lay|read|speak|pon|ponle|anade|agrega|dame|damela|damelo|"
    r"haz|hazlo|"
    r"conviertelo|convierte|canta|di|dile|mezcla|exporta|guarda|separa|quita|limpia|lee|"
    r"coloque|coloca|poe|ponha|adicione|adiciona|me de|me da|faca|converta|converte|cante|"
    r"diga|fala|fale|misture|mistura|exporte|separe|limpe|limpa|remova|tire|leia)\b)|"
    r",\s+(?=(?:put|add|give me|turn it|convert|export|sing|say|mix|pon|anade|dame|"
    r"conviertelo|canta|di|coloque|adicione|me de|converta|cante|diga)\b))")

# Words of conversation (not of music descriptions) that tell the three languages apart,
# as written (lower case, accents kept).
CHAT_WORDS = {
    "en": {"hello", "hi", "hey", "thanks", "thank", "please", "make", "say", "now", "faster",
           "slower", "louder", "softer", "longer", "shorter", "swap", "put", "give", "what",
           "can", "you", "it", "under", "over", "without", "instead", "sing", "read"},
    "es": {"hola", "gracias", "hazlo", "hazla", "hazme", "dime", "di", "dame", "dámela",
           "quita", "quítale", "ponle", "pon", "cambia", "usa", "compón", "escribe", "quiero",
           "necesito", "ahora", "más", "también", "buenos", "buenas", "qué", "cómo", "cuánto",
           "canta", "lee", "sonido", "lluvia", "olas", "mezcla", "separa", "bájale", "súbele",
           "días", "noches", "tardes", "por", "favor", "encima", "fondo", "está", "puedes"},
    "pt": {"olá", "oi", "obrigado", "obrigada", "faça", "faz", "deixe", "deixa", "diga",
           "fale", "troque", "coloque", "agora", "você", "mais", "também", "bom", "boa",
           "quero", "preciso", "componha", "tire", "dê", "cante", "leia", "som", "chuva",
           "ondas", "misture", "separe", "mude", "dia", "noite", "tarde", "pode", "fazer",
           "cima", "fundo", "em", "uma", "um", "dá"},
}
